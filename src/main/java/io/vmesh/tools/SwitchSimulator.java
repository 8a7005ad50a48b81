package io.vmesh.tools;

import io.vmesh.security.Secrets;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A telephone switch as vmesh sees it, for trying a topology out and for load tests: places calls
 * at a steady rate on {@code POST /switch/{switchId}/calls}, to extensions chosen uniformly in the
 * given ranges. A share of the calls are answered (no body); the others go to voicemail with a
 * speech-like recording from {@link SpeechSynthesizer}. Like a real switch it posts each call to its
 * first server and fails over to the next when that one does not answer or answers 5xx (vmesh's
 * 503); a 4xx is the call's own fault, so it is counted as rejected and not sent elsewhere.
 *
 * <p>From Java: {@code SwitchSimulator.run(SwitchSimulator.Options.parse("--server", url, "--calls", "100"))}.
 * From the command line: {@code java -jar vmesh.jar switch --server URL --calls N --rate R --extensions 2000-2999}.
 */
public final class SwitchSimulator {

    /** The state of an answered call: no recording, vmesh handles it normally. */
    public static final String ANSWERED = "ANSWERED";
    /** The states that go to voicemail (docs/http-api.md, vmesh.voicemail-states). */
    public static final List<String> VOICEMAIL_STATES = List.of("NO_ANSWER", "BUSY", "DND", "FORWARD_ALL");

    static final String USAGE = """
            usage: vmesh switch --server URL[,URL2,...] [--calls N] [--rate R] [--extensions FIRST-LAST[,FIRST-LAST...]]
                                [--answered FRACTION] [--switch ID] [--seconds S] [--concurrency C] [--seed N] [--timeout S]
              --server       the servers to post calls to, in the order the switch tries them
              --calls        how many calls to place (default 100)
              --rate         calls per second (default 10)
              --extensions   extensions called, uniformly in the ranges (default 1000-1999)
              --answered     share of calls answered, without a recording (default 0.3)
              --switch       switch id, as in topology.yaml (default hq-sw1)
              --seconds      length of each voicemail recording (default 30)
              --concurrency  calls in progress at most (default 16)
              --seed         seed of the call plan and the recordings (default 1)
              --timeout      seconds a server has to answer a call before the switch tries the next (default 10)""";

    /** A range of extensions, both ends included. */
    public record Range(long first, long last) {
        public Range {
            if (first < 0 || last < first) {
                throw new IllegalArgumentException("extension range " + first + "-" + last + " is empty");
            }
        }

        long size() {
            return last - first + 1;
        }

        @Override
        public String toString() {
            return first == last ? String.valueOf(first) : first + "-" + last;
        }
    }

    /** What to simulate. {@link #parse} reads them from command-line arguments, with the defaults of {@link #USAGE}. */
    public record Options(List<URI> servers, String switchId, int calls, double rate, List<Range> extensions,
                          double answered, double recordingSeconds, int concurrency, long seed, Duration timeout,
                          String token) {
        public Options {
            if (token == null || token.isBlank()) {
                token = Secrets.DEMO_PREFIX + switchId; // the shipped demo token of that switch
            }
            servers = List.copyOf(servers);
            extensions = List.copyOf(extensions);
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("--server is required: the URL of at least one vmesh server");
            }
            for (URI server : servers) {
                if (!"http".equals(server.getScheme()) && !"https".equals(server.getScheme()) || server.getHost() == null) {
                    throw new IllegalArgumentException("--server " + server + " is not an http:// URL");
                }
            }
            if (switchId == null || !switchId.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("--switch must be a switch id such as hq-sw1, got '" + switchId + "'");
            }
            require(calls >= 0, "--calls must be 0 or more");
            require(rate > 0, "--rate must be more than 0 calls per second");
            require(!extensions.isEmpty(), "--extensions needs at least one range");
            require(answered >= 0 && answered <= 1, "--answered must be a fraction from 0 to 1");
            require(recordingSeconds > 0 && recordingSeconds <= 3600, "--seconds must be more than 0 and at most 3600");
            require(concurrency >= 1, "--concurrency must be 1 or more");
            require(!timeout.isNegative() && !timeout.isZero(), "--timeout must be more than 0 seconds");
        }

        public static Options parse(String... args) {
            List<URI> servers = new ArrayList<>();
            String switchId = "hq-sw1";
            int calls = 100;
            double rate = 10;
            List<Range> extensions = List.of(new Range(1000, 1999));
            double answered = 0.3;
            double seconds = 30;
            int concurrency = 16;
            long seed = 1;
            Duration timeout = Duration.ofSeconds(10);
            String token = null;
            List<String> list = CommandLine.split(args, List.of("--server", "--switch", "--token", "--calls", "--rate", "--extensions",
                    "--answered", "--seconds", "--concurrency", "--seed", "--timeout"));
            for (int i = 0; i < list.size(); i += 2) {
                String name = list.get(i);
                String value = list.get(i + 1);
                switch (name) {
                    case "--server" -> Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                            .map(s -> URI.create(s.replaceAll("/+$", ""))).forEach(servers::add);
                    case "--switch" -> switchId = value;
                    case "--token" -> token = value;
                    case "--calls" -> calls = CommandLine.integer(name, value);
                    case "--rate" -> rate = CommandLine.number(name, value);
                    case "--extensions" -> extensions = ranges(value);
                    case "--answered" -> answered = CommandLine.number(name, value);
                    case "--seconds" -> seconds = CommandLine.number(name, value);
                    case "--concurrency" -> concurrency = CommandLine.integer(name, value);
                    case "--seed" -> seed = CommandLine.integer(name, value);
                    case "--timeout" -> timeout = Duration.ofMillis(Math.round(CommandLine.number(name, value) * 1000));
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            }
            return new Options(servers, switchId, calls, rate, extensions, answered, seconds, concurrency, seed, timeout, token);
        }

        private static List<Range> ranges(String value) {
            List<Range> ranges = new ArrayList<>();
            for (String part : value.split(",")) {
                String[] ends = part.trim().split("-", 2);
                try {
                    long first = Long.parseLong(ends[0].trim());
                    ranges.add(new Range(first, ends.length == 2 ? Long.parseLong(ends[1].trim()) : first));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--extensions takes FIRST-LAST ranges of digits, got '" + part + "'");
                }
            }
            return ranges;
        }

        private static void require(boolean condition, String message) {
            if (!condition) {
                throw new IllegalArgumentException(message);
            }
        }

        String extensionsText() {
            return extensions.stream().map(Range::toString).collect(Collectors.joining(","));
        }
    }

    /** A call that went to voicemail and was acknowledged with a 201: where its message was recorded. */
    public record Voicemail(String callId, String extension, String state, String messageId, String home,
                            String delivery, URI recordedBy) {
    }

    /** Latency of a call as the switch sees it, failovers included, in milliseconds. */
    public record Latency(double p50, double p90, double p99, double max) {
        static Latency of(long[] nanos) {
            if (nanos.length == 0) {
                return new Latency(0, 0, 0, 0);
            }
            long[] sorted = nanos.clone();
            Arrays.sort(sorted);
            return new Latency(rank(sorted, 0.50), rank(sorted, 0.90), rank(sorted, 0.99), sorted[sorted.length - 1] / 1e6);
        }

        private static double rank(long[] sorted, double p) { // nearest rank
            return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
        }
    }

    /**
     * What happened: calls {@code sent}; {@code accepted} with 201 (voicemail) or 200 (answered, handled
     * normally); {@code rejected} with a 4xx; {@code failed} when no server took them. {@code failovers}
     * counts each move to the next server. {@code achievedRate} is the rate the calls were placed at, from the first to the last
     * (below the target when every line was busy); {@code elapsed} runs from the first call to the last answer.
     * {@code problems}: why calls were refused or servers failed, as "count x reason", most frequent first.
     */
    public record Result(int sent, int answered, int accepted, int voicemails, int rejected, int failed, int failovers,
                         Latency latency, double achievedRate, Duration elapsed, List<Voicemail> messages,
                         List<String> problems) {
        public boolean allAccepted() {
            return accepted == sent;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How many distinct recordings a run cycles through: enough to vary, few enough to make quickly. */
    private static final int RECORDINGS = 8;
    private static final int PROBLEMS_KEPT = 20;

    private final Options options;
    private final HttpClient http;
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger voicemails = new AtomicInteger();
    private final AtomicInteger rejected = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger failovers = new AtomicInteger();
    private final Map<String, AtomicInteger> problems = new ConcurrentHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private long startNanos;
    private volatile long lastPlacedNanos;
    private int progressWidth;

    public SwitchSimulator(Options options) {
        this.options = options;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(options.timeout().compareTo(Duration.ofSeconds(2)) < 0 ? options.timeout() : Duration.ofSeconds(2))
                .build();
    }

    /** Runs the calls with no output and returns the figures: for benchmarks and tests. */
    public static Result run(Options options) {
        return new SwitchSimulator(options).run(null, false);
    }

    /** {@code vmesh switch ...}: runs, shows progress and the summary on {@code out}; 0 if every call was accepted. */
    public static int commandLine(PrintStream out, PrintStream err, boolean terminal, String... args) {
        if (List.of(args).contains("--help")) {
            out.println(USAGE);
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("vmesh switch: " + e.getMessage() + " (see vmesh switch --help)");
            return 2;
        }
        out.printf(Locale.ROOT, "switch %s: %d calls at %s/s to extensions %s, %d%% answered, %s s recordings, via %s%n",
                options.switchId(), options.calls(), number(options.rate()), options.extensionsText(),
                Math.round(options.answered() * 100), number(options.recordingSeconds()),
                options.servers().stream().map(URI::toString).collect(Collectors.joining(", ")));
        Result result = new SwitchSimulator(options).run(out, terminal);
        out.print(summary(result));
        return result.allAccepted() ? 0 : 1;
    }

    /**
     * Places the calls, once per simulator. With a {@code progress} stream, shows a progress line on it:
     * rewritten in place on a terminal, a plain line every two seconds otherwise.
     */
    public Result run(PrintStream progress, boolean terminal) {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("a switch simulator runs once; make another for another run");
        }
        List<Call> plan = plan();
        ExecutorService callers = Executors.newFixedThreadPool(options.concurrency(), daemon(options.switchId() + "-call"));
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon(options.switchId() + "-progress"));
        Semaphore lines = new Semaphore(options.concurrency());
        long[] latencies = new long[plan.size()];
        Arrays.fill(latencies, -1);
        Voicemail[] messages = new Voicemail[plan.size()];
        startNanos = System.nanoTime();
        if (progress != null) {
            long period = terminal ? 250 : 2000;
            ticker.scheduleAtFixedRate(() -> progress.print(terminal ? "\r" + progressLine() : progressLine() + "\n"),
                    period, period, TimeUnit.MILLISECONDS);
        }
        long lastFinished = startNanos;
        lastPlacedNanos = startNanos;
        try {
            for (int i = 0; i < plan.size(); i++) {
                long due = startNanos + (long) (i * 1e9 / options.rate());
                for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                    LockSupport.parkNanos(wait);
                }
                lines.acquire(); // all lines busy: the switch waits, and the achieved rate shows it
                Call call = plan.get(i);
                lastPlacedNanos = System.nanoTime();
                sent.incrementAndGet();
                callers.execute(() -> {
                    try {
                        place(call, latencies, messages);
                    } finally {
                        lines.release();
                    }
                });
            }
            callers.shutdown();
            callers.awaitTermination(1, TimeUnit.DAYS);
            lastFinished = System.nanoTime();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            callers.shutdownNow();
        } finally {
            ticker.shutdownNow();
        }
        try {
            ticker.awaitTermination(1, TimeUnit.SECONDS); // no tick after the last line
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (progress != null) {
            progress.print(terminal ? "\r" + progressLine() + "\n" : progressLine() + "\n");
            progress.flush();
        }
        Duration elapsed = Duration.ofNanos(lastFinished - startNanos);
        double placing = (lastPlacedNanos - startNanos) / 1e9;
        return new Result(sent.get(), (int) plan.stream().filter(c -> c.recording == null).count(),
                accepted.get(), voicemails.get(), rejected.get(), failed.get(), failovers.get(),
                Latency.of(Arrays.stream(latencies).filter(l -> l >= 0).toArray()),
                sent.get() > 1 && placing > 0 ? (sent.get() - 1) / placing : 0, elapsed,
                Arrays.stream(messages).filter(m -> m != null).toList(),
                problems.entrySet().stream().sorted(Map.Entry.<String, AtomicInteger>comparingByValue(
                                Comparator.comparingInt(AtomicInteger::get)).reversed().thenComparing(Map.Entry.comparingByKey()))
                        .map(e -> e.getValue().get() + " x " + e.getKey()).toList());
    }

    private record Call(int index, String id, String from, String extension, String state, byte[] recording) {
    }

    /** The calls in order, all decided up front from the seed: the same options give the same calls. */
    private List<Call> plan() {
        Random random = new Random(options.seed());
        int calls = options.calls();
        boolean[] answered = new boolean[calls];
        int answeredCalls = (int) Math.round(calls * options.answered());
        Integer[] order = new Integer[calls];
        Arrays.setAll(order, i -> i);
        Collections.shuffle(Arrays.asList(order), random); // exactly this many answered, at random places
        for (int i = 0; i < answeredCalls; i++) {
            answered[order[i]] = true;
        }
        byte[][] recordings = new byte[Math.min(RECORDINGS, calls - answeredCalls)][];
        for (int r = 0; r < recordings.length; r++) {
            recordings[r] = new SpeechSynthesizer(options.seed() * 31 + r).wav(options.recordingSeconds());
        }
        long total = options.extensions().stream().mapToLong(Range::size).sum();
        String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36); // callIds differ between runs
        List<Call> plan = new ArrayList<>(calls);
        for (int i = 0; i < calls; i++) {
            long pick = (long) (random.nextDouble() * total);
            String extension = null;
            for (Range range : options.extensions()) {
                if (pick < range.size()) {
                    extension = String.valueOf(range.first() + pick);
                    break;
                }
                pick -= range.size();
            }
            String from = "555" + String.format(Locale.ROOT, "%04d", random.nextInt(10_000));
            String state = answered[i] ? ANSWERED : VOICEMAIL_STATES.get(random.nextInt(VOICEMAIL_STATES.size()));
            byte[] recording = answered[i] ? null : recordings[i % recordings.length];
            plan.add(new Call(i, options.switchId() + "-" + run + "-" + i, from, extension, state, recording));
        }
        return plan;
    }

    /** One call: its servers in order until one takes it or refuses it. */
    private void place(Call call, long[] latencies, Voicemail[] messages) {
        int index = call.index;
        long begin = System.nanoTime();
        List<URI> servers = options.servers();
        for (int s = 0; s < servers.size(); s++) {
            URI server = servers.get(s);
            try {
                HttpResponse<String> response = http.send(request(server, call), HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status >= 200 && status < 300) {
                    latencies[index] = System.nanoTime() - begin;
                    if (status == 201) {
                        messages[index] = voicemail(call, server, response.body());
                        voicemails.incrementAndGet();
                    }
                    accepted.incrementAndGet();
                    return;
                }
                if (status < 500) {
                    latencies[index] = System.nanoTime() - begin;
                    problem(status + " " + error(response.body()));
                    rejected.incrementAndGet();
                    return;
                }
                problem(server + " answered " + status + " " + error(response.body()));
            } catch (IOException e) {
                problem(server + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (s + 1 < servers.size()) {
                failovers.incrementAndGet();
            }
        }
        failed.incrementAndGet();
    }

    /** Counts the reasons calls were refused or servers failed, for the summary: the first few kinds, then "others". */
    private void problem(String text) {
        String key = problems.size() < PROBLEMS_KEPT || problems.containsKey(text) ? text : "(other reasons)";
        problems.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }

    private HttpRequest request(URI server, Call call) {
        URI uri = URI.create(server + "/switch/" + options.switchId() + "/calls?callId=" + call.id
                + "&from=" + call.from + "&to=" + call.extension + "&state=" + call.state);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(options.timeout())
                .header("Authorization", "Bearer " + options.token());
        return call.recording == null
                ? request.POST(HttpRequest.BodyPublishers.noBody()).build()
                : request.header("Content-Type", "audio/wav").POST(HttpRequest.BodyPublishers.ofByteArray(call.recording)).build();
    }

    private static Voicemail voicemail(Call call, URI server, String body) {
        try {
            JsonNode answer = JSON.readTree(body);
            return new Voicemail(call.id, call.extension, call.state, answer.path("messageId").asText(null),
                    answer.path("home").asText(null), answer.path("delivery").asText(null), server);
        } catch (IOException e) {
            return new Voicemail(call.id, call.extension, call.state, null, null, null, server);
        }
    }

    /** The reason of an {@code {"error": ...}} answer, or the start of whatever came instead. */
    private static String error(String body) {
        try {
            JsonNode error = JSON.readTree(body).path("error");
            if (error.isTextual()) {
                return error.asText();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: show it as it is
        }
        return body == null ? "" : body.substring(0, Math.min(body.length(), 120)).strip();
    }

    private synchronized String progressLine() {
        int placed = sent.get(); // then the time of the last call placed: at least as recent as this count
        double seconds = (lastPlacedNanos - startNanos) / 1e9; // the rate calls are placed at, as in the summary
        int total = options.calls();
        int done = accepted.get() + rejected.get() + failed.get();
        int width = 20;
        int filled = total == 0 ? width : (int) ((long) done * width / total);
        String line = String.format(Locale.ROOT, "[%s%s] %d/%d sent  %d accepted  %d rejected  %d failed  %d failovers  %.1f calls/s",
                "#".repeat(filled), ".".repeat(width - filled), placed, total, accepted.get(), rejected.get(),
                failed.get(), failovers.get(), placed > 1 && seconds > 0 ? (placed - 1) / seconds : 0);
        progressWidth = Math.max(progressWidth, line.length()); // a shorter line rewritten in place must blank the rest
        return line + " ".repeat(progressWidth - line.length());
    }

    /** The end-of-run summary, one figure a line. */
    public static String summary(Result r) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "  sent        %6d  (%d answered, %d to voicemail)%n", r.sent(), r.answered(),
                r.sent() - r.answered()));
        out.append(String.format(Locale.ROOT, "  accepted    %6d  (%d voicemail 201, %d normal 200)%n", r.accepted(),
                r.voicemails(), r.accepted() - r.voicemails()));
        out.append(String.format(Locale.ROOT, "  rejected    %6d  (4xx: the call's own fault, not retried)%n", r.rejected()));
        out.append(String.format(Locale.ROOT, "  failed      %6d  (no server took them)%n", r.failed()));
        out.append(String.format(Locale.ROOT, "  failovers   %6d%n", r.failovers()));
        Latency l = r.latency();
        out.append(r.accepted() + r.rejected() == 0 ? String.format("  latency ms  none: no server answered%n")
                : String.format(Locale.ROOT, "  latency ms  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f%n", l.p50(), l.p90(), l.p99(), l.max()));
        out.append(String.format(Locale.ROOT, "  rate        %.1f calls/s achieved, %.1f s from the first call to the last answer%n",
                r.achievedRate(), r.elapsed().toMillis() / 1000.0));
        r.problems().stream().limit(3).forEach(p -> out.append("  problem     ").append(p).append(System.lineSeparator()));
        if (r.problems().size() > 3) {
            out.append("  problem     ... and ").append(r.problems().size() - 3).append(" other kinds").append(System.lineSeparator());
        }
        return out.toString();
    }

    private static String number(double value) {
        return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, name + "-" + n.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
