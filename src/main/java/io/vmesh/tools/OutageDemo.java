package io.vmesh.tools;

import io.vmesh.security.Secrets;
import io.vmesh.Installation;
import io.vmesh.storage.Mailboxes;
import io.vmesh.storage.Spool;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code java -jar vmesh.jar demo}: FIG. 1's servers as real processes, each site's switch calling
 * extensions homed on the other sites, one server stopped for a while and started again. The
 * operator watches the stopped server's messages wait on the others ({@code GET /migrations}),
 * then drain once it is back, and sees at the end where every message ended up.
 * docs/demo.md walks through its output.
 */
public final class OutageDemo {

    static final String USAGE = """
            usage: vmesh demo [--config DIR] [--data DIR] [--calls N] [--rate R] [--seconds S]
                              [--outage-server ID] [--outage-seconds S] [--keep-data]
              --config          configuration with the topology to start (default camel-config/ of the installation)
              --data            where the servers keep their data and logs; must be new or empty
                                (default: a fresh temporary directory, removed at the end)
              --calls           calls placed before the outage, and again during it (default 60)
              --rate            calls per second, all switches together (default 10)
              --seconds         length of each voicemail recording (default 8)
              --outage-server   the server stopped for a while (default: the second of the topology)
              --outage-seconds  how long it stays down, at least (default 20)
              --keep-data       keep the temporary data directory""";

    /** What the demo does; {@link #parse} reads them from command-line arguments. */
    public record Options(Path config, Path data, boolean keepData, int calls, double rate, double recordingSeconds,
                          String outageServer, Duration outage) {

        public static Options parse(String... args) {
            Path config = Installation.config();
            Path data = null;
            boolean keep = false;
            int calls = 60;
            double rate = 10;
            double seconds = 8;
            String outageServer = null;
            Duration outage = Duration.ofSeconds(20);
            List<String> list = CommandLine.split(args, List.of("--config", "--data", "--calls", "--rate", "--seconds",
                    "--outage-server", "--outage-seconds"), "--keep-data");
            for (int i = 0; i < list.size(); i += 2) {
                String name = list.get(i);
                String value = list.get(i + 1);
                switch (name) {
                    case "--config" -> config = Path.of(value);
                    case "--data" -> data = Path.of(value);
                    case "--keep-data" -> keep = Boolean.parseBoolean(value);
                    case "--calls" -> calls = CommandLine.integer(name, value);
                    case "--rate" -> rate = CommandLine.number(name, value);
                    case "--seconds" -> seconds = CommandLine.number(name, value);
                    case "--outage-server" -> outageServer = value;
                    case "--outage-seconds" -> outage = Duration.ofMillis(Math.round(CommandLine.number(name, value) * 1000));
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            }
            if (calls < 1 || rate <= 0 || seconds <= 0 || outage.isNegative()) {
                throw new IllegalArgumentException("--calls, --rate and --seconds must be more than 0, --outage-seconds 0 or more");
            }
            return new Options(config.toAbsolutePath().normalize(), data == null ? null : data.toAbsolutePath().normalize(),
                    keep, calls, rate, seconds, outageServer, outage);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How often the backlog table gets a line. */
    private static final Duration TICK = Duration.ofSeconds(2);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /** A home that is back gets its backlog within the migration back-off (5 s shipped); this is far beyond. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(90);

    private final Options options;
    private final PrintStream out;
    private final Directory directory;
    /** Mailboxes are read as their owners, with the PIN every mailbox has until its owner sets one. */
    private final String defaultPin;
    private final java.util.Map<String, String> ownPins = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, ServerProcess> servers = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();
    private final List<SwitchSimulator.Voicemail> acknowledged = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    /** Messages waiting for the stopped server, per server that holds them: the largest number seen. */
    private final Map<String, Integer> peak = new TreeMap<>();
    private final long started = System.nanoTime();

    public OutageDemo(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
        this.directory = Directory.load(options.config().resolve("topology.yaml"));
        this.defaultPin = new Secrets(options.config().resolve("secrets.properties"), directory).defaultPin();
    }

    /** {@code vmesh demo ...}: 0 when every call was accepted and every message is in exactly one home mailbox. */
    public static int commandLine(PrintStream out, PrintStream err, String... args) {
        if (List.of(args).contains("--help")) {
            out.println(USAGE);
            return 0;
        }
        OutageDemo demo;
        try {
            demo = new OutageDemo(Options.parse(args), out);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("vmesh demo: " + e.getMessage() + " (see vmesh demo --help)");
            return 2;
        }
        try {
            return demo.run() ? 0 : 1;
        } catch (Exception e) {
            out.flush();
            err.println("vmesh demo: " + e.getMessage());
            return 1;
        }
    }

    /** Runs the whole demo; true when everything checked out. */
    public boolean run() throws Exception {
        if (directory.servers().size() < 2) {
            throw new IllegalArgumentException("the demo needs a topology of two servers or more");
        }
        String outage = options.outageServer() != null ? options.outageServer() : directory.servers().get(1).id();
        directory.server(outage).orElseThrow(() -> new IllegalArgumentException("--outage-server " + outage + " is not in the topology"));
        if (!Files.isDirectory(Installation.routes())) {
            throw new IllegalStateException("no routes directory " + Installation.routes() + ": run the demo from a vmesh installation");
        }
        Path data = dataDirectory();
        boolean temporary = options.data() == null;
        Thread killer = new Thread(() -> servers.values().forEach(ServerProcess::close), "vmesh-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(killer); // ^C: no server is left behind
        try {
            out.printf("vmesh demo: %s, each site's switch calling the other sites, and %s down for a while%n",
                    directory.servers().stream().map(Directory.Server::id).collect(Collectors.joining(", ")), outage);
            out.printf("  config  %s%n  data    %s  (each server's log: <server>.log)%n", options.config(), data);
            startServers(data);
            callsWithEveryServerUp();
            callsWithOneServerDown(outage);
            serverBack(outage);
            whereEveryMessageIs(data);
        } finally {
            stopServers();
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
            if (temporary && !options.keepData()) {
                deleteRecursively(data);
            }
        }
        if (failures.isEmpty()) {
            out.printf("demo OK in %.0f s%n", elapsed());
            return true;
        }
        out.printf("demo FAILED in %.0f s:%n", elapsed());
        failures.forEach(f -> out.println("  - " + f));
        return false;
    }

    private Path dataDirectory() throws IOException {
        if (options.data() == null) {
            return Files.createTempDirectory("vmesh-demo-");
        }
        if (Files.isDirectory(options.data())) {
            try (Stream<Path> content = Files.list(options.data())) {
                if (content.findAny().isPresent()) {
                    throw new IllegalArgumentException("--data " + options.data() + " is not empty: the demo starts from nothing");
                }
            }
        }
        return Files.createDirectories(options.data());
    }

    // --- the stages ---------------------------------------------------------------------------

    private void startServers(Path data) throws Exception {
        stage(1, "starting the servers, each its own process (java -jar, as an operator runs it)");
        for (Directory.Server server : directory.servers()) {
            ServerProcess process = new ServerProcess(server, options.config(), Installation.routes(), data.resolve(server.id()),
                    data.resolve(server.id() + ".log"));
            String inUse = process.portInUse();
            if (inUse != null) {
                throw new IllegalStateException(inUse + " (" + server.id() + ") is in use: is a vmesh server running already? "
                        + "Stop it, or give the demo a topology on other ports with --config");
            }
            servers.put(server.id(), process);
        }
        for (ServerProcess process : servers.values()) {
            process.start();
        }
        for (ServerProcess process : servers.values()) {
            process.awaitHealthy(START_TIMEOUT);
            out.printf("  %-6s %-24s up at %4.0f s%n", process.id(), process.url(), elapsed());
        }
    }

    private void callsWithEveryServerUp() throws Exception {
        stage(2, "every server up: " + options.calls() + " calls at " + number(options.rate())
                + "/s, each switch calling extensions homed on other sites");
        List<CompletableFuture<Traffic>> traffic = placeCalls(1);
        table(backlogs -> traffic.stream().allMatch(CompletableFuture::isDone) && totalPending(backlogs) == 0,
                DRAIN_TIMEOUT, null);
        report(traffic);
    }

    private void callsWithOneServerDown(String outage) throws Exception {
        stage(3, outage + " stops (SIGTERM); " + options.calls() + " more calls; " + outage
                + "'s switch fails over to the next server in its list");
        servers.get(outage).stop(STOP_GRACE);
        long down = System.nanoTime();
        out.printf("  %s stopped at %.0f s%n", outage, elapsed());
        List<CompletableFuture<Traffic>> traffic = placeCalls(2);
        table(backlogs -> traffic.stream().allMatch(CompletableFuture::isDone)
                && System.nanoTime() - down >= options.outage().toNanos(), Duration.ofDays(1), outage);
        report(traffic);
    }

    private void serverBack(String outage) throws Exception {
        stage(4, outage + " starts again: the others deliver what waited for it");
        ServerProcess process = servers.get(outage);
        process.start();
        long[] back = {0};
        table(backlogs -> {
            if (back[0] == 0 && process.isHealthy()) {
                back[0] = System.nanoTime();
            }
            return !process.isAlive() || back[0] != 0 && totalPending(backlogs) == 0; // exited: nothing more to see
        }, START_TIMEOUT.plus(DRAIN_TIMEOUT), outage);
        if (back[0] == 0 || !process.isAlive()) {
            failures.add(outage + " did not come back; see " + process.log);
            return;
        }
        out.printf("  %s's backlog peaked at %d messages (%s); all delivered %.1f s after %s was back%n", outage,
                peak.values().stream().mapToInt(Integer::intValue).sum(),
                peak.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")),
                (System.nanoTime() - back[0]) / 1e9, outage);
    }

    private void whereEveryMessageIs(Path data) throws Exception {
        stage(5, "where every message ended up");
        // every mailbox of every server, from disk: a message in two mailboxes would show here
        Map<String, List<String>> places = new TreeMap<>();
        out.printf("  %-8s %9s %9s %15s %12s %14s%n", "server", "mailboxes", "messages", "recorded there", "migrated in",
                "left in spool");
        for (ServerProcess server : servers.values()) {
            int boxes = 0;
            int messages = 0;
            int local = 0;
            for (Map.Entry<String, List<String>> box : Mailboxes.idsOnDisk(server.dataDir).entrySet()) {
                boxes += box.getValue().isEmpty() ? 0 : 1;
                for (String id : box.getValue()) {
                    places.computeIfAbsent(id, k -> new ArrayList<>()).add(server.id() + "/" + box.getKey());
                    messages++;
                    local += id.startsWith(server.id() + "-") ? 1 : 0;
                }
            }
            long spooled = Spool.idsOnDisk(server.dataDir).size();
            out.printf("  %-8s %9d %9d %15d %12d %14d%n", server.id(), boxes, messages, local, messages - local, spooled);
            if (spooled > 0) {
                failures.add(spooled + " messages are still in the spool of " + server.id());
            }
        }
        int exactlyOnce = 0;
        Set<String> acknowledgedIds = new HashSet<>();
        Map<String, Set<String>> expectedInMailbox = new TreeMap<>(); // home/extension -> ids
        for (SwitchSimulator.Voicemail m : acknowledged) {
            acknowledgedIds.add(m.messageId());
            String home = directory.homeOf(m.extension());
            List<String> found = places.getOrDefault(m.messageId(), List.of());
            if (found.equals(List.of(home + "/" + m.extension()))) {
                exactlyOnce++;
            } else {
                failures.add(m.messageId() + " for " + m.extension() + " (home " + home + ") is in " + found.size()
                        + " mailboxes: " + found);
            }
            expectedInMailbox.computeIfAbsent(home + "/" + m.extension(), k -> new HashSet<>()).add(m.messageId());
        }
        int listed = 0;
        for (Map.Entry<String, Set<String>> box : expectedInMailbox.entrySet()) {
            String[] homeAndExtension = box.getKey().split("/");
            Set<String> ids = mailboxIds(homeAndExtension[0], homeAndExtension[1]);
            for (String id : box.getValue()) {
                listed += ids.contains(id) ? 1 : 0;
            }
        }
        long unacknowledged = places.keySet().stream().filter(id -> !acknowledgedIds.contains(id)).count();
        out.printf("  %d messages were acknowledged to the switches with a 201%n", acknowledged.size());
        out.printf("  %d of them are in exactly one mailbox: their extension's, on its home server%n", exactlyOnce);
        out.printf("  %d of them are listed by GET /mailboxes/{ext}/messages on their home server%n", listed);
        if (unacknowledged > 0) {
            out.printf("  %d messages in mailboxes were never acknowledged to a switch%n", unacknowledged);
            failures.add(unacknowledged + " messages in mailboxes were never acknowledged to a switch");
        }
        if (listed != acknowledged.size()) {
            failures.add((acknowledged.size() - listed) + " acknowledged messages are not listed by their home mailbox");
        }
        if (exactlyOnce == acknowledged.size() && unacknowledged == 0 && !acknowledged.isEmpty()) {
            out.printf("  every one of the %d acknowledged messages is in exactly one mailbox, on its home server%n",
                    acknowledged.size());
        }
    }

    private void stopServers() throws InterruptedException {
        if (servers.values().stream().noneMatch(ServerProcess::isAlive)) {
            return; // none started
        }
        stage(6, "stopping the servers");
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (ServerProcess server : servers.values()) {
            stops.add(CompletableFuture.runAsync(() -> {
                try {
                    server.stop(STOP_GRACE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    server.close();
                }
            }));
        }
        stops.forEach(CompletableFuture::join);
        out.printf("  stopped at %.0f s%n", elapsed());
    }

    // --- calls --------------------------------------------------------------------------------

    /** One site switch's calls and what came of them. */
    private record Traffic(String switchId, List<String> via, String extensions, SwitchSimulator.Result result) {
    }

    /**
     * Each server's first switch calls the extensions homed on other servers, posting to its own
     * server first and to the others, in topology order, when that one does not answer.
     */
    private List<CompletableFuture<Traffic>> placeCalls(int round) {
        List<Directory.Server> withSwitches = directory.servers().stream().filter(s -> !s.switches().isEmpty()).toList();
        List<CompletableFuture<Traffic>> traffic = new ArrayList<>();
        for (int i = 0; i < withSwitches.size(); i++) {
            Directory.Server server = withSwitches.get(i);
            List<SwitchSimulator.Range> elsewhere = directory.extensionRanges().stream()
                    .filter(r -> !r.home().equals(server.id()))
                    .map(r -> new SwitchSimulator.Range(r.first(), r.last())).toList();
            int calls = options.calls() / withSwitches.size() + (i < options.calls() % withSwitches.size() ? 1 : 0);
            if (elsewhere.isEmpty() || calls == 0) {
                continue;
            }
            List<Directory.Server> order = new ArrayList<>(List.of(server));
            directory.servers().stream().filter(s -> s != server).forEach(order::add);
            SwitchSimulator.Options call = new SwitchSimulator.Options(
                    order.stream().map(s -> URI.create(servers.get(s.id()).url())).toList(),
                    server.switches().get(0), calls, options.rate() / withSwitches.size(), elsewhere, 0.2,
                    options.recordingSeconds(), 4, round * 100L + i, Duration.ofSeconds(10), null);
            traffic.add(CompletableFuture.supplyAsync(() -> new Traffic(call.switchId(),
                    order.stream().map(Directory.Server::id).toList(), call.extensionsText(), SwitchSimulator.run(call))));
        }
        return traffic;
    }

    private void report(List<CompletableFuture<Traffic>> traffic) {
        out.println("  switches:");
        for (CompletableFuture<Traffic> t : traffic) {
            Traffic done = t.join();
            SwitchSimulator.Result r = done.result();
            out.printf(Locale.ROOT, "    %-9s to %-21s via %-16s %3d calls  %3d accepted  %d rejected  %d failed  %2d failovers"
                            + "  p50 %.0f ms  p99 %.0f ms%n",
                    done.switchId(), done.extensions(), String.join(",", done.via()), r.sent(), r.accepted(), r.rejected(),
                    r.failed(), r.failovers(), r.latency().p50(), r.latency().p99());
            acknowledged.addAll(r.messages());
            if (!r.allAccepted()) {
                failures.add(done.switchId() + ": " + (r.sent() - r.accepted()) + " of " + r.sent()
                        + " calls not accepted: " + r.problems());
            }
        }
    }

    // --- the backlog table --------------------------------------------------------------------

    /** Per server, its {@code GET /migrations}: home -> messages waiting for it; null when it does not answer. */
    private Map<String, Map<String, Integer>> backlogs() {
        Map<String, Map<String, Integer>> backlogs = new LinkedHashMap<>();
        for (ServerProcess server : servers.values()) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/migrations"))
                        .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
                Map<String, Integer> pending = new LinkedHashMap<>();
                JSON.readTree(response.body()).fields().forEachRemaining(e -> pending.put(e.getKey(), e.getValue().path("pending").asInt()));
                backlogs.put(server.id(), response.statusCode() == 200 ? pending : null);
            } catch (IOException e) {
                backlogs.put(server.id(), null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                backlogs.put(server.id(), null);
            }
        }
        return backlogs;
    }

    private static int totalPending(Map<String, Map<String, Integer>> backlogs) {
        int total = 0;
        for (Map<String, Integer> pending : backlogs.values()) {
            if (pending == null) {
                return Integer.MAX_VALUE; // a server that does not answer may hold anything
            }
            total += pending.values().stream().mapToInt(Integer::intValue).sum();
        }
        return total;
    }

    /**
     * A line of the backlog table every {@link #TICK}, and a last one when {@code done} says so: for
     * each server, how many messages wait on it for each other server ("-": the server does not answer).
     */
    private void table(Predicate<Map<String, Map<String, Integer>>> done, Duration timeout, String watched)
            throws InterruptedException {
        List<String[]> columns = new ArrayList<>();
        for (Directory.Server holder : directory.servers()) {
            for (Directory.Server home : directory.servers()) {
                if (holder != home) {
                    columns.add(new String[] {holder.id(), home.id()});
                }
            }
        }
        StringBuilder header = new StringBuilder("    time");
        columns.forEach(c -> header.append(String.format("  %8s", c[0] + "->" + c[1])));
        out.println("  backlog: messages recorded on one server, waiting for their home (GET /migrations)");
        out.println(header);
        long deadline = System.nanoTime() + Math.min(timeout.toNanos(), Duration.ofDays(1).toNanos());
        long nextLine = 0;
        String printed = null;
        while (true) {
            Map<String, Map<String, Integer>> backlogs = backlogs();
            boolean finished = done.test(backlogs);
            StringBuilder cells = new StringBuilder();
            for (String[] c : columns) {
                Map<String, Integer> pending = backlogs.get(c[0]);
                cells.append(String.format("  %8s", pending == null ? "-" : pending.getOrDefault(c[1], 0)));
                if (watched != null && c[1].equals(watched) && pending != null) {
                    peak.merge(c[0], pending.getOrDefault(c[1], 0), Math::max);
                }
            }
            if (watched != null) {
                ServerProcess server = servers.get(watched);
                cells.append("   ").append(watched).append(server.isHealthy() ? " up" : server.isAlive() ? " starting" : " down");
            }
            // a line every tick, and the final state unless the last line showed it already
            if (System.nanoTime() >= nextLine || finished && !cells.toString().equals(printed)) {
                out.println(String.format(Locale.ROOT, "  %5.0f s", elapsed()) + cells);
                printed = cells.toString();
                nextLine = System.nanoTime() + TICK.toNanos();
            }
            if (finished) {
                return;
            }
            if (System.nanoTime() >= deadline) {
                failures.add("gave up waiting after " + timeout.toSeconds() + " s (backlog: " + backlogs + ")");
                return;
            }
            Thread.sleep(250);
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    /** The owner's PIN: the default PIN opens a mailbox only to set one, so the demo sets one first, as its owner would. */
    private String ownPin(String home, String extension) throws IOException, InterruptedException {
        String pin = ownPins.get(extension);
        if (pin == null) {
            pin = String.valueOf(100_000 + new java.security.SecureRandom().nextInt(900_000));
            HttpResponse<String> set = http.send(HttpRequest.newBuilder(URI.create(servers.get(home).url()
                    + "/mailboxes/" + extension + "/pin")).timeout(Duration.ofSeconds(10))
                    .header("Authorization", basic(extension, defaultPin))
                    .PUT(HttpRequest.BodyPublishers.ofString(pin)).build(), HttpResponse.BodyHandlers.ofString());
            if (set.statusCode() != 204) {
                throw new IOException("could not set the PIN of mailbox " + extension + " on " + home + ": "
                        + set.statusCode() + " " + set.body());
            }
            ownPins.put(extension, pin);
        }
        return pin;
    }

    private static String basic(String extension, String pin) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString(
                (extension + ":" + pin).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private Set<String> mailboxIds(String home, String extension) throws IOException, InterruptedException {
        String pin = ownPin(home, extension);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(servers.get(home).url()
                + "/mailboxes/" + extension + "/messages")).timeout(Duration.ofSeconds(10))
                .header("Authorization", basic(extension, pin)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("mailbox " + extension + " on " + home + " answered " + response.statusCode() + ": " + response.body());
        }
        Set<String> ids = new HashSet<>();
        for (JsonNode message : JSON.readTree(response.body())) {
            ids.add(message.path("id").asText());
        }
        return ids;
    }

    private void stage(int number, String title) {
        out.printf(Locale.ROOT, "%n[%d/6] %s  (at %.0f s)%n", number, title, elapsed());
    }

    private double elapsed() {
        return (System.nanoTime() - started) / 1e9;
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory left behind is no failure of the demo
        }
    }

    private static String number(double value) {
        return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
    }
}
