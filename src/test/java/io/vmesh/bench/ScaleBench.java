package io.vmesh.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.vmesh.Audio;
import io.vmesh.LargeTopology;
import io.vmesh.TestTopology;
import io.vmesh.VmeshProcess;

import static io.vmesh.bench.Benchmark.log;

/**
 * The benchmark row {@code scale} (issue 15): {@code bench.scale.servers} real servers (12) in a
 * topology of {@code bench.scale.topology} entries (500), the others down. Per server: threads, RSS
 * and heap after a full GC when idle, time from launch to {@code /health}; the probes the company
 * sends at rest; then a message each for 16 homes at once (when each home's consumers started on hq,
 * from its log, and when the message reached a running home), a backlog for the five of them that are
 * down (threads with it), and a live change (a server
 * added that takes a range with messages waiting): how long until every running server has it in
 * force, and until the new server has its messages.
 */
final class ScaleBench {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final int running = Integer.getInteger("bench.scale.servers", 12);
    private final int entries = Integer.getInteger("bench.scale.topology", 500);
    private final int restSeconds = Integer.getInteger("bench.scale.restSeconds", 30);
    private final Path root;
    private final Map<String, String> rows = new LinkedHashMap<>();

    ScaleBench(Path root) {
        this.root = root;
    }

    /** The rows of the table (row name, vmesh's figure), in order. */
    Map<String, String> run() throws Exception {
        TestTopology t = new TestTopology(Files.createDirectories(root).resolve("config"));
        LargeTopology company = new LargeTopology(t, entries);
        // hq, east, and site-004 ... : the running servers; west and the rest stay down
        List<String> sites = new ArrayList<>(List.of("hq", "east"));
        for (int n = 4; sites.size() < running; n++) {
            sites.add(LargeTopology.siteId(n));
        }
        Map<String, VmeshProcess> servers = new LinkedHashMap<>();
        Map<String, Double> secondsToHealth = new LinkedHashMap<>();
        Map<String, Double> cpuToHealth = new LinkedHashMap<>();
        // the same server in the shipped 3-server topology, on the machine as it is now: the reference
        TestTopology three = new TestTopology(root.resolve("config-3"));
        VmeshProcess reference = new VmeshProcess(three, "hq", root.resolve("hq-3")).withJvmOptions(Sut.JVM_OPTIONS);
        long launchedReference = System.nanoTime();
        reference.start();
        double referenceS = (System.nanoTime() - launchedReference) / 1e9;
        double referenceCpuS = Sut.cpuMillis(reference.pid()) / 1e3;
        double referenceThreads = status(reference.pid(), "Threads:");
        reference.stop();
        log(String.format(Locale.ROOT, "scale: reference, hq in the 3-server topology: healthy %.1f s after launch (CPU %.1f s), %.0f threads",
                referenceS, referenceCpuS, referenceThreads));
        try {
            for (String site : sites) { // one at a time: each start measured alone, as an operator's restart is
                VmeshProcess p = new VmeshProcess(t, site, root.resolve(site)).withJvmOptions(Sut.JVM_OPTIONS);
                long launched = System.nanoTime();
                p.start();
                secondsToHealth.put(site, (System.nanoTime() - launched) / 1e9);
                cpuToHealth.put(site, Sut.cpuMillis(p.pid()) / 1e3);
                servers.put(site, p);
                log(String.format(Locale.ROOT, "scale: %s healthy %.1f s after launch (CPU %.1f s)", site, secondsToHealth.get(site),
                        cpuToHealth.get(site)));
            }
            Thread.sleep(5_000); // start-up's own work settles
            Map<String, Double> probesBefore = probes(t, sites);
            long restStart = System.nanoTime();
            Thread.sleep(restSeconds * 1000L);
            Map<String, Double> probesAfter = probes(t, sites);
            double restS = (System.nanoTime() - restStart) / 1e9;
            double probesPerS = sites.stream().mapToDouble(s -> probesAfter.get(s) - probesBefore.get(s)).sum() / restS;

            Map<String, Double> threads = new LinkedHashMap<>();
            Map<String, Double> rss = new LinkedHashMap<>();
            Map<String, Double> heap = new LinkedHashMap<>();
            for (String site : sites) {
                long pid = servers.get(site).pid();
                threads.put(site, status(pid, "Threads:"));
                rss.put(site, status(pid, "VmRSS:") / 1024);
                heap.put(site, Sut.heapMbAfterGc(pid));
                log(String.format(Locale.ROOT, "scale: %s idle: %.0f threads, RSS %.0f MB, heap after GC %.1f MB, healthy %.1f s after launch",
                        site, threads.get(site), rss.get(site), heap.get(site), secondsToHealth.get(site)));
            }
            rows.put("scale: idle server, " + entries + "-server topology, threads (max / mean of " + running + ")", maxMean(threads, "%.0f"));
            rows.put("scale: idle server, RSS (MB, max / mean)", maxMean(rss, "%.0f"));
            rows.put("scale: idle server, heap after GC (MB, max / mean)", maxMean(heap, "%.1f"));
            rows.put("scale: launch to /health (s, max / mean)", maxMean(secondsToHealth, "%.1f")
                    + String.format(Locale.ROOT, "; 3-server topology %.1f", referenceS));
            rows.put("scale: CPU used until /health (s, max / mean)", maxMean(cpuToHealth, "%.1f")
                    + String.format(Locale.ROOT, "; 3-server topology %.1f", referenceCpuS));
            rows.put("scale: probes at rest, whole company (per s)", String.format(Locale.ROOT, "%.2f (%d servers, %.0f s)", probesPerS, running, restS));

            // a message for each of 16 homes at once, none of which has a migration route on hq: the 11 other
            // running servers and five that are down; then two more for each of those five (a backlog)
            List<Integer> downHomes = List.of(300, 301, 302, 303, 304);
            Map<String, String> firstCalls = new LinkedHashMap<>(); // home -> extension
            for (String site : sites.subList(1, sites.size())) {
                firstCalls.put(site, site.equals("east") ? "2000" : String.valueOf(LargeTopology.firstExtension(Integer.parseInt(site.substring(5)))));
            }
            downHomes.forEach(n -> firstCalls.put(LargeTopology.siteId(n), String.valueOf(LargeTopology.firstExtension(n))));
            ExecutorService switches = Executors.newFixedThreadPool(firstCalls.size());
            Map<String, Future<String>> ids = new LinkedHashMap<>();
            long sent = System.nanoTime();
            firstCalls.forEach((home, ext) -> ids.put(home, switches.submit(() -> record(t, ext))));
            List<String> toRunning = new ArrayList<>();
            for (String site : sites.subList(1, sites.size())) {
                toRunning.add(site + "/" + firstCalls.get(site) + "/" + ids.get(site).get());
            }
            for (String home : firstCalls.keySet()) {
                ids.get(home).get();
            }
            switches.shutdown();
            Map<String, Double> arrived = awaitAll(toRunning, Duration.ofSeconds(60));
            for (int n : downHomes) {
                for (int i = 0; i < 2; i++) {
                    record(t, String.valueOf(LargeTopology.firstExtension(n)));
                }
            }
            double hqThreads = status(servers.get("hq").pid(), "Threads:");
            rows.put("scale: hq with a backlog for 5 homes that are down, threads", String.format(Locale.ROOT, "%.0f", hqThreads));
            // when each home's consumers started on hq, from its log line (ms after a message asked for the route)
            Map<String, Double> consumersMs = new LinkedHashMap<>();
            Pattern added = Pattern.compile("Migration route migrate-to-(\\S+) added: .* started (\\d+) ms after it was asked for \\((\\d+) ms of CPU\\)");
            Map<String, Double> cpuMs = new LinkedHashMap<>();
            for (String line : Files.readAllLines(servers.get("hq").log)) {
                Matcher m = added.matcher(line);
                if (m.find() && firstCalls.containsKey(m.group(1))) {
                    consumersMs.putIfAbsent(m.group(1), Double.parseDouble(m.group(2)));
                    cpuMs.putIfAbsent(m.group(1), Double.parseDouble(m.group(3)));
                }
            }
            for (String home : firstCalls.keySet()) {
                Double inMailbox = arrived.get(home);
                log(String.format(Locale.ROOT, "scale: %s: consumers on hq started %s ms after its message was queued (%s ms of CPU)%s", home,
                        consumersMs.containsKey(home) ? String.format(Locale.ROOT, "%.0f", consumersMs.get(home)) : "NOT SEEN",
                        cpuMs.containsKey(home) ? String.format(Locale.ROOT, "%.0f", cpuMs.get(home)) : "?",
                        inMailbox == null ? "" : String.format(Locale.ROOT, "; the message in its mailbox %.1f s after the calls", inMailbox - sent / 1e9)));
            }
            rows.put("scale: " + firstCalls.size() + " homes without a route get a message at once: their consumers started (ms after queued, max / mean)",
                    consumersMs.size() < firstCalls.size() ? "NOT DONE: " + consumersMs.size() + " of " + firstCalls.size()
                            : maxMean(consumersMs, "%.0f") + String.format(Locale.ROOT, "; CPU per addition %s ms", maxMean(cpuMs, "%.0f")));
            double delivered = arrived.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow() - sent / 1e9;
            rows.put("scale: one message to each of " + (running - 1) + " running homes, all delivered (s)",
                    String.format(Locale.ROOT, "%.1f (sent at once with the 5 down homes' first)", delivered));

            // live: a server "late" joins and takes site-300's range, whose messages wait on hq
            String range = LargeTopology.firstExtension(300) + "-" + (LargeTopology.firstExtension(300) + 99);
            company.addServer("late").home(range, "late").write();
            long written = System.nanoTime();
            Map<String, Long> inForce = new LinkedHashMap<>();
            long deadline = written + 60_000_000_000L;
            while (inForce.size() < sites.size() && System.nanoTime() < deadline) {
                for (String site : sites) {
                    if (!inForce.containsKey(site) && Files.readString(servers.get(site).log).contains("Topology changed")) {
                        inForce.put(site, System.nanoTime());
                    }
                }
                Thread.sleep(100);
            }
            inForce.forEach((site, at) -> log(String.format(Locale.ROOT, "scale: %s has the change in force %.1f s after the write",
                    site, (at - written) / 1e9)));
            double everyServer = (inForce.values().stream().mapToLong(Long::longValue).max().orElse(deadline) - written) / 1e9;
            rows.put("scale: live change in force on every running server (s)", inForce.size() < sites.size()
                    ? "NOT DONE: " + inForce.size() + " of " + sites.size()
                    : String.format(Locale.ROOT, "%.1f (log line per server; polled every 0.1 s)", everyServer));
            VmeshProcess late = new VmeshProcess(t, "late", root.resolve("late")).withJvmOptions(Sut.JVM_OPTIONS);
            late.start();
            servers.put("late", late);
            long lateUp = System.nanoTime();
            String ext = String.valueOf(LargeTopology.firstExtension(300));
            Path box = root.resolve("late/mailboxes/" + ext);
            while (count(box) < 3 && System.nanoTime() - lateUp < 60_000_000_000L) {
                Thread.sleep(100);
            }
            rows.put("scale: the new server has the 3 messages waiting for its range (s after its /health)", count(box) < 3
                    ? "NOT DONE: " + count(box) + " of 3" : String.format(Locale.ROOT, "%.1f", (System.nanoTime() - lateUp) / 1e9));
            if (servers.containsKey("hq")) { // what hq did with its migration routes, for the record
                Files.readAllLines(servers.get("hq").log).stream().filter(l -> l.contains("MigrationRoutes") || l.contains("Topology"))
                        .forEach(l -> log("scale: hq: " + l));
            }
        } finally {
            for (VmeshProcess p : servers.values()) {
                p.stop();
            }
        }
        return rows;
    }

    private static String maxMean(Map<String, Double> values, String format) {
        return String.format(Locale.ROOT, format + " / " + format,
                values.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
                values.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
    }

    /** A numeric field of /proc/PID/status (Threads:, VmRSS: in kB). */
    private static double status(long pid, String field) throws Exception {
        return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream().filter(l -> l.startsWith(field))
                .mapToDouble(l -> Double.parseDouble(l.substring(field.length()).trim().split("\\s+")[0])).findFirst().orElseThrow();
    }

    /** vmesh_peers_probes_total of each server, from its /observe/metrics. */
    private static Map<String, Double> probes(TestTopology t, List<String> sites) throws Exception {
        Map<String, Double> probes = new LinkedHashMap<>();
        for (String site : sites) {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(t.managementUrl(site) + "/observe/metrics"))
                            .header("Authorization", io.vmesh.Credentials.management()).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            probes.put(site, metrics.lines().filter(l -> l.startsWith("vmesh_peers_probes_total"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
                    .orElseThrow(() -> new IllegalStateException(site + " has no vmesh_peers_probes_total")));
        }
        return probes;
    }

    private static String record(TestTopology t, String ext) throws Exception {
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl("hq") + "/switch/hq-sw1/calls?callId=s-"
                        + System.nanoTime() + "&from=5551500&to=" + ext + "&state=NO_ANSWER"))
                .header("Authorization", io.vmesh.Credentials.switchToken("hq-sw1"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-03.wav"))).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 201) {
            throw new IllegalStateException("call for " + ext + " answered " + response.statusCode() + ": " + response.body());
        }
        String body = response.body();
        int at = body.indexOf("\"messageId\":\"") + 13;
        return body.substring(at, body.indexOf('"', at));
    }

    /** Waits until each site/ext/id is in its home's mailbox; returns when each arrived (site -> nanoTime / 1e9, polled every 50 ms). */
    private Map<String, Double> awaitAll(List<String> messages, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Double> arrived = new LinkedHashMap<>();
        List<String> remaining = new ArrayList<>(messages);
        while (!remaining.isEmpty() && System.nanoTime() < deadline) {
            remaining.removeIf(m -> {
                String[] p = m.split("/");
                if (Files.exists(root.resolve(p[0]).resolve("mailboxes").resolve(p[1]).resolve(p[2] + ".json"))) {
                    arrived.put(p[0], System.nanoTime() / 1e9);
                    return true;
                }
                return false;
            });
            Thread.sleep(50);
        }
        if (!remaining.isEmpty()) {
            throw new IllegalStateException("not delivered in " + timeout + ": " + remaining);
        }
        return arrived;
    }

    private static long count(Path mailbox) throws Exception {
        if (!Files.isDirectory(mailbox)) {
            return 0;
        }
        try (var files = Files.list(mailbox)) {
            return files.filter(f -> f.toString().endsWith(".json")).count();
        }
    }
}
