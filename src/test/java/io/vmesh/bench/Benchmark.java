package io.vmesh.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import javax.sound.sampled.AudioFormat;

import io.vmesh.Audio;

/**
 * vmesh against a raw-JDK baseline in the same run, on this machine: record, migrate, drain, growth.
 * Each workload runs on the raw baseline, then on vmesh, alternately, with the same client and sizes.
 * Prints a table and, last, the RESULT line. {@code -Dbench.quick=true} runs small sizes.
 *
 * <pre>mvn -B -Pbench -DskipTests verify</pre>
 */
public final class Benchmark {

    static final int CLIENTS = 16;

    final boolean quick = Boolean.getBoolean("bench.quick");
    final int n = Integer.getInteger("bench.messages", quick ? 48 : 400);
    /** Calls per round of the growth rows: three times the others, since their target compares two rows (10%). */
    final int nGrowth = Integer.getInteger("bench.growthMessages", 3 * n);
    /** Delivery latency is measured at this steady rate, well below what either system sustains. */
    final double paced = Double.parseDouble(System.getProperty("bench.pacedPerSecond", "5"));
    final int nPaced = Integer.getInteger("bench.pacedMessages", quick ? 25 : 150);
    final int n300 = Integer.getInteger("bench.messages300", quick ? 8 : 40);
    /** A drain of 30 s recordings queued for east while it is down (the 10k drain is of west's pending, below). */
    final int drain30 = Integer.getInteger("bench.drain30", quick ? 100 : 1000);
    /** Pending messages are seeded with recordings this long, to fit the run in its time. */
    final int seedSeconds = Integer.getInteger("bench.seedSeconds", 5);
    final List<Integer> pendingLevels = Arrays.stream(System.getProperty("bench.pending", quick ? "50,200" : "1000,10000")
            .split(",")).map(String::trim).map(Integer::valueOf).toList();
    final long drainTimeoutS = Long.getLong("bench.drainTimeoutS", 900);
    /**
     * Pairs of the backlog's drains (into a home that starts, then into one that stayed up): one drain moved
     * by about 10% from the next on this machine, as much as the 1.3 its ratio is held to, so their rows are
     * the medians. The first drains what piled up since the start; each later one as many, queued while the
     * home was stopped (or frozen) again.
     */
    final int drainRounds = Integer.getInteger("bench.drainRounds", quick ? 1 : 3);
    /**
     * Rounds of warm-up (each: record and migrate, 30 s and 5 s, bench.messages calls each), so that the
     * measured rows see servers in their steady state. After one round, and still after three, the JIT
     * compilers took 20-37% of a vmesh server's CPU during the measured rows (thousands of Camel,
     * netty, ActiveMQ and Jackson methods still being compiled on two busy cores; docs/performance.md).
     * After eight, the home's C2 compiler still took 41% of its CPU in the migrate row (migrate_ratio
     * 0.64); after 24, 1.6 ms of CPU per message instead of 2.9-6.0 (migrate_ratio 0.92).
     */
    final int warmupRounds = Integer.getInteger("bench.warmupRounds", 24);
    /**
     * Which workloads run (default all): warmup, record, migrate, paced, sizes, drain30, growth, drain, outage,
     * postfix (the same two drains by two Postfix instances, each right after vmesh's; {@link PostfixSut}),
     * calls, sip (concurrent voicemail calls into one server: media alone, and real SIP calls),
     * scale (vmesh alone: many servers in a 500-server topology, {@link ScaleBench}; {@code -Dbench.workloads=scale}
     * runs it without the others).
     */
    final Set<String> workloads = Set.of(System.getProperty("bench.workloads",
            "warmup,record,migrate,paced,sizes,drain30,growth,drain,outage,postfix,calls,sip,scale").split(","));
    final Path dir = Path.of(System.getProperty("bench.dir", "target/bench")).toAbsolutePath();

    final LoadClient client = new LoadClient(CLIENTS);
    final Map<Integer, byte[]> wavs = new LinkedHashMap<>();
    /** row name -> system -> figure. */
    final Map<String, Map<String, String>> table = new LinkedHashMap<>();
    final Map<String, Double> figures = new LinkedHashMap<>();
    /** Per drain row: what it is sensitive to, measured around it (MachineProbe). */
    final Map<String, String> conditions = new LinkedHashMap<>();
    /** Messages answered 201 that never reached their home in time, per system. */
    final Map<String, Integer> missing = new LinkedHashMap<>();
    /** The e-mail peer, set up at its first row; or why it cannot run here. */
    PostfixSut postfix;
    String postfixSkipped;

    public static void main(String[] args) throws Exception {
        Benchmark b = new Benchmark();
        int status = 0;
        try {
            b.run();
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        } finally {
            b.client.shutdown();
        }
        System.exit(status); // the client's pools are not daemon threads
    }

    byte[] wav(int seconds) {
        return wavs.computeIfAbsent(seconds, s -> Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1), s));
    }

    void run() throws Exception {
        if (Set.of("calls", "sip").containsAll(workloads)) { // the calls rows alone start no raw baseline
            deleteTree(dir);
            Files.createDirectories(dir);
            concurrentCalls();
            deleteTree(dir);
            return;
        }
        if (workloads.contains("outage") && !workloads.contains("drain")) {
            throw new IllegalArgumentException("bench.workloads: outage needs drain before it (that drain starts west and warms it)");
        }
        deleteTree(dir);
        Files.createDirectories(dir);
        log("benchmark " + (quick ? "QUICK" : "FULL") + ": " + n + " messages per throughput run, " + n300
                + " with 300 s recordings, pending " + pendingLevels + " (seeded with " + seedSeconds + " s recordings), drain of "
                + drain30 + " x 30 s and of all pending; " + CLIENTS + " clients; data in " + dir);
        log("machine: " + MachineProbe.describe(dir));
        log(probes());
        // -Dbench.systems=vmesh measures one system alone (for profiling: no ratios then)
        Set<String> systems = Set.of(System.getProperty("bench.systems", "raw,vmesh").split(","));
        List<Sut> suts = new ArrayList<>();
        boolean onlyScale = workloads.equals(Set.of("scale"));
        if (systems.contains("raw") && !onlyScale) {
            suts.add(new RawSut(dir.resolve("raw"), Integer.getInteger("bench.forwarders", 16)));
        }
        if (systems.contains("vmesh") && !onlyScale) {
            suts.add(new VmeshSut(dir.resolve("vmesh")));
        }
        try {
            for (Sut s : suts) {
                s.start();
                log(s.name() + ": hq and east up, west down");
            }
            // warm-up, not measured: JIT, connection pools, directories
            for (Sut s : workloads.contains("warmup") ? suts : List.<Sut>of()) {
                // as many as a measured run: with the C2 compiler, 64 calls left the first measured rows cold
                for (int round = 0; round < warmupRounds; round++) {
                    record(s, n, 30, null);
                    migrate(s, n, 30, null);
                    record(s, n, 5, null);
                    migrate(s, n, 5, null);
                }
            }
            for (Sut s : workloads.contains("record") ? suts : List.<Sut>of()) {
                record(s, n, 30, "record 30 s, 0 pending (msg/s)");
            }
            for (Sut s : workloads.contains("migrate") ? suts : List.<Sut>of()) {
                migrate(s, n, 30, "migrate 30 s, 0 pending (msg/s)");
            }
            for (Sut s : workloads.contains("paced") ? suts : List.<Sut>of()) {
                paced(s, nPaced, 30);
            }
            for (int seconds : workloads.contains("sizes") ? new int[] {5, 300} : new int[0]) {
                int count = seconds == 300 ? n300 : n;
                for (Sut s : suts) {
                    record(s, count, seconds, "record " + seconds + " s, 0 pending (msg/s)");
                }
                for (Sut s : suts) {
                    migrate(s, count, seconds, "migrate " + seconds + " s, 0 pending (msg/s)");
                }
            }
            for (Sut s : workloads.contains("drain30") ? suts : List.<Sut>of()) {
                drain(s, "east", List.of(), drain30, 30);
            }
            if (workloads.contains("postfix")) {
                postfixDrain("east", drain30, 30, 2000);
            }
            int pending = 0;
            Map<Sut, List<LoadClient.Sent>> seeded = new LinkedHashMap<>();
            for (int level : workloads.contains("growth") || workloads.contains("drain") ? pendingLevels : List.<Integer>of()) {
                for (Sut s : suts) {
                    seeded.computeIfAbsent(s, x -> new ArrayList<>()).addAll(seed(s, level - pending));
                }
                pending = level;
                if (level == 10_000 || level == pendingLevels.get(pendingLevels.size() - 1)) {
                    for (Sut s : suts) {
                        double mb = Sut.heapMbAfterGc(s.pid("hq"));
                        // what holds it: the largest classes after the full GC, in the log
                        Sut.run("jcmd", String.valueOf(s.pid("hq")), "GC.class_histogram").lines().skip(1).limit(14)
                                .forEach(line -> log(s.name() + " hq heap: " + line));
                        put("heap of A after GC, " + level + " pending (MB)", s, String.format(Locale.ROOT, "%.1f", mb));
                        if (level == 10_000) {
                            figures.put(s.name() + ".heap10k", mb);
                        }
                    }
                }
                if (workloads.contains("growth")) {
                    growth(suts, level);
                }
            }
            // the drain: everything pending for west (down since the start) goes once west starts; then as many
            // again for west while it runs but cannot be reached: the same drain with a warm home. drainRounds
            // such pairs (west stopped again and as many queued for each later one): the rows are their medians
            int backlog = pendingLevels.get(pendingLevels.size() - 1);
            Map<String, List<DrainRound>> rounds = new LinkedHashMap<>();
            for (int round = 1; round <= (workloads.contains("drain") ? drainRounds : 0); round++) {
                for (Sut s : suts) {
                    keepRound(rounds, s, round == 1 ? drain(s, "west", seeded.get(s), 0, seedSeconds)
                            : drain(s, "west", List.of(), backlog, seedSeconds));
                }
                for (Sut s : workloads.contains("outage") ? suts : List.<Sut>of()) {
                    keepRound(rounds, s, drainAfterOutage(s, "west", backlog, seedSeconds));
                }
            }
            if (drainRounds > 1) {
                medians(rounds, backlog);
            }
            if (workloads.contains("postfix")) {
                postfixDrain("west", backlog, seedSeconds, 3000);
            }
        } finally {
            for (Sut s : suts) {
                s.close();
            }
            if (postfix != null) {
                postfix.close();
            }
        }
        // alone on the machine, after the others: a dozen servers at once
        if (workloads.contains("scale") && systems.contains("vmesh")) {
            new ScaleBench(dir.resolve("scale")).run().forEach((row, value) -> {
                table.computeIfAbsent(row, r -> new LinkedHashMap<>()).put("vmesh", value);
                log("vmesh " + row + ": " + value);
            });
        }
        printTable();
        concurrentCalls();
        deleteTree(dir);
    }

    /** vmesh alone: the raw baseline has no phone side. */
    void concurrentCalls() throws Exception {
        if (workloads.contains("calls")) {
            ConcurrentCalls calls = new ConcurrentCalls(dir.resolve("calls"), quick);
            calls.run();
            System.out.println("\nconcurrent G.711 calls recorded by one server's media layer (target: 254 with < 0.1% of RTP lost in vmesh):");
            calls.lines().forEach(System.out::println);
        }
        if (workloads.contains("sip")) {
            SipCalls calls = new SipCalls(dir.resolve("sip-calls"), quick);
            calls.run();
            System.out.println("\nconcurrent SIP voicemail calls into one vmesh server (target: 254, < 0.1% of RTP lost, every message complete):");
            calls.lines().forEach(System.out::println);
        }
        System.out.flush();
    }

    void record(Sut s, int count, int seconds, String row) throws Exception {
        profile(s, row, "hq", true);
        double cpuA = Sut.cpuMillis(s.pid("hq"));
        LoadClient.Run run = client.post(s.dataUrl("hq"), count, 1000, wav(seconds));
        double cpuPerMessage = (Sut.cpuMillis(s.pid("hq")) - cpuA) / count;
        profile(s, row, "hq", false);
        long missing = run.sent().stream().filter(m -> !Files.exists(durable(s, "hq", m))).count();
        if (missing > 0) {
            throw new IllegalStateException(s.name() + ": " + missing + " messages answered 201 LOCAL are not in the hq mailbox");
        }
        double perS = count / run.seconds();
        if (row != null) {
            double[] lat = percentiles(run.sent().stream().mapToDouble(m -> m.latencyNanos() / 1e6).toArray());
            put(row, s, String.format(Locale.ROOT, "%.1f (call p50 %.0f / p99 %.0f ms, CPU %.1f ms/msg)", perS, lat[0], lat[1],
                    cpuPerMessage) + retries(run));
            figures.put(s.name() + "." + row, perS);
            log(s.name() + " " + row + ": " + table.get(row).get(s.name()));
        }
        clean(s, "hq", run.sent());
    }

    /** Measured rounds of record and of migrate at each backlog level, after the first: their median is the level's figure. */
    static final int GROWTH_ROUNDS = 3;

    /**
     * The growth rows of one backlog level. A first round after seeding is shown in rows of its own, not the
     * target's: seeding runs other code for minutes (messages for a home that is down), and in that round the
     * servers recompile the record and migrate paths (a profile of the 100,000 level's first migrate: most of
     * its extra CPU in the C2 compiler threads of both servers). Then {@value #GROWTH_ROUNDS} rounds, each of
     * {@code nGrowth} calls (about 5 s): the row shows their median and each. With 400 calls a round (2 s),
     * the same row's rounds differed by up to a third (a checkpoint of the broker's store, a collection, the
     * JIT still compiling the 30 s recordings' path), more than the 10% the target allows.
     */
    void growth(List<Sut> suts, int level) throws Exception {
        for (Sut s : suts) {
            record(s, nGrowth, 30, "record 30 s, " + level + " pending, first round (msg/s)");
            migrate(s, nGrowth, 30, "migrate 30 s, " + level + " pending, first round (msg/s)");
        }
        for (int round = 1; round <= GROWTH_ROUNDS; round++) {
            for (Sut s : suts) {
                record(s, nGrowth, 30, growthRound("record", level, round));
                migrate(s, nGrowth, 30, growthRound("migrate", level, round));
            }
        }
        for (String kind : new String[] {"record", "migrate"}) {
            for (Sut s : suts) {
                List<Double> rates = new ArrayList<>();
                for (int round = 1; round <= GROWTH_ROUNDS; round++) {
                    String roundRow = growthRound(kind, level, round);
                    rates.add(figures.remove(s.name() + "." + roundRow));
                    figures.remove(s.name() + "." + roundRow + ".p99");
                    table.get(roundRow).remove(s.name());
                    if (table.get(roundRow).isEmpty()) {
                        table.remove(roundRow);
                    }
                }
                double median = median(rates);
                String row = kind + " 30 s, " + level + " pending (msg/s)";
                put(row, s, String.format(Locale.ROOT, "%.1f (median of %s)", median, joined(rates)));
                figures.put(s.name() + "." + row, median);
            }
        }
    }

    static String growthRound(String kind, int level, int round) {
        return kind + " 30 s, " + level + " pending, round " + round + " (msg/s)";
    }

    void migrate(Sut s, int count, int seconds, String row) throws Exception {
        profile(s, row, "hq", true);
        profile(s, row, "east", true);
        double cpuA = Sut.cpuMillis(s.pid("hq"));
        double cpuB = Sut.cpuMillis(s.pid("east"));
        LoadClient.Run run = client.post(s.dataUrl("hq"), count, 2000, wav(seconds));
        long last = awaitDurable(s, run, 120 + count / 2);
        // recording included on A: what the row's throughput costs each server
        double cpuPerMessageA = (Sut.cpuMillis(s.pid("hq")) - cpuA) / count;
        double cpuPerMessageB = (Sut.cpuMillis(s.pid("east")) - cpuB) / count;
        profile(s, row, "hq", false);
        profile(s, row, "east", false);
        double perS = run.sent().size() / ((last - run.startNanos()) / 1e9);
        double[] delivery = percentiles(run.sent().stream().mapToDouble(m -> deliveryMs(s, m)).toArray());
        if (row != null) {
            put(row, s, String.format(Locale.ROOT, "%.1f (delivery p50 %.0f / p99 %.0f ms, CPU %.1f+%.1f ms/msg)", perS,
                    delivery[0], delivery[1], cpuPerMessageA, cpuPerMessageB) + retries(run));
            figures.put(s.name() + "." + row, perS);
            figures.put(s.name() + "." + row + ".p99", delivery[1]);
            log(s.name() + " " + row + ": " + table.get(row).get(s.name()));
        }
        clean(s, "east", run.sent());
    }

    /**
     * With {@code -Dbench.jfr=DIR}: a JFR recording (settings {@code bench.jfrSettings}, default profile; a
     * .jfc of one's own, e.g. every compilation with its threshold at 0 ms) of a site's JVM during the measured
     * 30 s, 0 pending runs and the drains, in DIR/&lt;system&gt;-&lt;site&gt;-&lt;workload&gt;.jfr. Profiling costs throughput:
     * the documented figures come from a run without it.
     */
    void profile(Sut s, String row, String site, boolean start) throws Exception {
        asyncProfile(s, row, site, start);
        String jfrDir = System.getProperty("bench.jfr", "");
        if (jfrDir.isBlank() || row == null || !(row.contains("30 s, 0 pending") || row.startsWith("drain"))) {
            return;
        }
        String name = s.name() + "-" + site + "-" + row.substring(0, row.indexOf(' ')) + (row.startsWith("drain") ? "-" + row.split(" ")[1] + (row.contains("outage") ? "-outage" : "") : "");
        Files.createDirectories(Path.of(jfrDir));
        Sut.run("jcmd", String.valueOf(s.pid(site)), start ? "JFR.start" : "JFR.stop", "name=" + name,
                start ? "settings=" + System.getProperty("bench.jfrSettings", "profile") : "filename=" + Path.of(jfrDir).toAbsolutePath().resolve(name + ".jfr"));
    }

    /**
     * With {@code -Dbench.asprof=LIB -Dbench.asprofDir=DIR} (LIB: async-profiler's libasyncProfiler.so): CPU
     * profiles, Java and native frames and the JIT and GC threads, of the measured rows (a drain's
     * from the moment its home is healthy), as collapsed stacks in DIR/&lt;system&gt;-&lt;site&gt;-&lt;row&gt;.collapsed.
     */
    void asyncProfile(Sut s, String row, String site, boolean start) throws Exception {
        String lib = System.getProperty("bench.asprof", "");
        if (lib.isBlank() || row == null) {
            return;
        }
        Path out = Path.of(System.getProperty("bench.asprofDir", "target/asprof")).toAbsolutePath();
        Files.createDirectories(out);
        String name = (s.name() + "-" + site + "-" + row.replaceAll("[^A-Za-z0-9]+", "-")).replaceAll("-+$", "");
        Sut.run("jcmd", String.valueOf(s.pid(site)), "JVMTI.agent_load", lib,
                // quoted: jcmd would split the agent's options at '='
                "\"" + (start ? "start,event=cpu,interval=1ms,threads" : "stop,file=" + out.resolve(name + ".collapsed") + ",collapsed") + "\"");
    }

    /** Delivery latency with the home up, at a steady {@link #paced} calls per second: call sent to durable on east. */
    void paced(Sut s, int count, int seconds) throws Exception {
        LoadClient.Run run = client.post(s.dataUrl("hq"), count, 2000, wav(seconds), paced);
        awaitDurable(s, run, 120 + count / 2);
        double[] delivery = percentiles(run.sent().stream().mapToDouble(m -> deliveryMs(s, m)).toArray());
        String row = "delivery at " + fmt(paced) + " calls/s, " + seconds + " s (ms)";
        put(row, s, String.format(Locale.ROOT, "p50 %.0f / p99 %.0f", delivery[0], delivery[1]) + retries(run));
        figures.put(s.name() + ".paced.p99", delivery[1]);
        log(s.name() + " " + row + ": " + table.get(row).get(s.name()));
        clean(s, "east", run.sent());
    }

    /** Messages for west, which is down: they stay pending on hq. */
    List<LoadClient.Sent> seed(Sut s, int count) throws Exception {
        LoadClient.Run run = client.post(s.dataUrl("hq"), count, 3000, wav(seedSeconds));
        log(String.format(Locale.ROOT, "%s: queued %d more for west (down) in %.1f s (%.1f/s)", s.name(), count,
                run.seconds(), count / run.seconds()));
        return run.sent();
    }

    /**
     * {@code home} is down, or goes down now; {@code extra} more messages are queued for it; then it starts:
     * how long from its start until every message queued for it is durable there.
     */
    String drain(Sut s, String home, List<LoadClient.Sent> queued, int extra, int seconds) throws Exception {
        List<LoadClient.Sent> all = new ArrayList<>(queued);
        if (extra > 0) {
            s.stop(home);
            LoadClient.Run run = client.post(s.dataUrl("hq"), extra, home.equals("east") ? 2000 : 3000, wav(seconds));
            log(String.format(Locale.ROOT, "%s: queued %d for %s (down) in %.1f s", s.name(), extra, home, run.seconds()));
            all.addAll(run.sent());
        }
        log(probes());
        long launchMs = System.currentTimeMillis();
        s.start(home);
        String row = "drain " + all.size() + " x " + seconds + " s after " + home + " is back (s)";
        awaitDrain(s, home, all, row, launchMs);
        return row;
    }

    /**
     * A WAN outage rather than a server's: {@code home} keeps running (and so stays warm) but answers nothing,
     * frozen with SIGSTOP, while {@code count} messages are queued for it; then SIGCONT: how long until every
     * one is durable there: what the same drain takes without a cold start (cold_warm_drain_ratio's denominator).
     */
    String drainAfterOutage(Sut s, String home, int count, int seconds) throws Exception {
        String pid = String.valueOf(s.pid(home));
        Sut.run("kill", "-STOP", pid);
        LoadClient.Run run;
        try {
            run = client.post(s.dataUrl("hq"), count, home.equals("east") ? 2000 : 3000, wav(seconds));
            log(String.format(Locale.ROOT, "%s: queued %d for %s (frozen) in %.1f s", s.name(), count, home, run.seconds()));
        } finally {
            Sut.run("kill", "-CONT", pid);
        }
        String row = "drain " + count + " x " + seconds + " s after an outage, " + home + " running (s)";
        awaitDrain(s, home, run.sent(), row, -1);
        return row;
    }

    /**
     * From now until every one of {@code all} is durable on {@code home}: the drain's figure (and, when
     * {@code launchMs} >= 0, the time from the home's launch), the CPU per message on both servers, its ramp.
     */
    void awaitDrain(Sut s, String home, List<LoadClient.Sent> all, String row, long launchMs) throws Exception {
        int count = all.size();
        long back = System.nanoTime();
        long backMs = System.currentTimeMillis();
        profile(s, row, "hq", true);
        profile(s, row, home, true);
        double cpuA = Sut.cpuMillis(s.pid("hq"));
        double cpuB = Sut.cpuMillis(s.pid(home)); // its start-up is not counted
        double cpuObserver = Sut.cpuMillis(ProcessHandle.current().pid());
        MachineProbe.ProcessCpu splitA = MachineProbe.processCpu(s.pid("hq"));
        MachineProbe.ProcessCpu splitB = MachineProbe.processCpu(s.pid(home));
        MachineProbe.MachineCounters machine = MachineProbe.machineCounters();
        Set<LoadClient.Sent> remaining = new LinkedHashSet<>(all);
        // the end is when the last message's JSON was written (its mtime): polled every 250 ms, measured to the ms
        long lastMs = backMs;
        long deadline = back + drainTimeoutS * 1_000_000_000L;
        List<Long> arrivals = new ArrayList<>();
        while (!remaining.isEmpty() && System.nanoTime() < deadline) {
            lastMs = Math.max(lastMs, removeDurable(s, home, remaining, arrivals));
            Thread.sleep(250);
        }
        // how the drain ramps up and holds: messages durable in each 2 s after the home was back
        int[] perTwoSeconds = new int[(int) ((lastMs - backMs) / 2000) + 1];
        arrivals.forEach(t -> perTwoSeconds[(int) Math.max(0, (t - backMs) / 2000)]++);
        log(s.name() + " " + home + " drain, messages durable per 2 s: " + Arrays.toString(perTwoSeconds)
                + (arrivals.isEmpty() ? "" : "; the first " + (Collections.min(arrivals) - backMs) + " ms after it was back"));
        double observerS = (Sut.cpuMillis(ProcessHandle.current().pid()) - cpuObserver) / 1000;
        String sensitive = s.name() + ": hq " + MachineProbe.processCpu(s.pid("hq")).minus(splitA).perMessage(count)
                + "; " + home + " " + MachineProbe.processCpu(s.pid(home)).minus(splitB).perMessage(count)
                + "; " + MachineProbe.machineCounters().since(machine);
        conditions.merge(row, sensitive, (a, b) -> a + "\n    " + b);
        log(row + ": " + sensitive);
        profile(s, row, "hq", false);
        profile(s, row, home, false);
        // CPU per message on the sender and on the home while draining: what bounds a drain on two cores
        double cpuPerMessageA = (Sut.cpuMillis(s.pid("hq")) - cpuA) / count;
        double cpuPerMessageB = (Sut.cpuMillis(s.pid(home)) - cpuB) / count;
        if (remaining.isEmpty()) {
            double fromBack = (lastMs - backMs) / 1e3;
            put(row, s, String.format(Locale.ROOT, "%.1f (%s%.0f msg/s, CPU %.1f+%.1f ms/msg)", fromBack,
                    launchMs < 0 ? "" : String.format(Locale.ROOT, "%.1f from launch, ", (lastMs - launchMs) / 1e3),
                    count / fromBack, cpuPerMessageA, cpuPerMessageB));
            figures.put(s.name() + "." + row, fromBack);
            if (launchMs >= 0) {
                figures.put(s.name() + ".drain." + count, fromBack); // the target's: a home that starts
            }
        } else {
            put(row, s, String.format(Locale.ROOT, "NOT DONE: %d of %d after %d s", count - remaining.size(), count, drainTimeoutS));
        }
        log(s.name() + " " + row + ": " + table.get(row).get(s.name())
                + String.format(Locale.ROOT, "; the benchmark's own CPU meanwhile: %.1f s", observerS));
        clean(s, home, all);
    }

    /** One round of a drain row: its time (NaN when it did not finish) and its cell. */
    record DrainRound(double seconds, String cell) {
    }

    /** Keeps a drain row's time and cell of this round, per system and row. */
    void keepRound(Map<String, List<DrainRound>> rounds, Sut s, String row) {
        Double seconds = figures.get(s.name() + "." + row);
        rounds.computeIfAbsent(s.name() + "." + row, k -> new ArrayList<>())
                .add(new DrainRound(seconds == null ? Double.NaN : seconds, table.get(row).get(s.name())));
    }

    /**
     * Each drain row becomes the median of its rounds: its cell and figure are the median round's, with every
     * round's time after it. A round that did not finish leaves the row at that round's cell, with no figure.
     */
    void medians(Map<String, List<DrainRound>> rounds, int backlog) {
        rounds.forEach((key, kept) -> {
            String system = key.substring(0, key.indexOf('.'));
            Map<String, String> cells = table.get(key.substring(key.indexOf('.') + 1));
            List<Double> times = kept.stream().map(DrainRound::seconds).toList();
            DrainRound failed = kept.stream().filter(r -> Double.isNaN(r.seconds())).findFirst().orElse(null);
            if (failed != null) {
                cells.put(system, failed.cell() + " [rounds: " + joined(times) + "]");
                figures.remove(key);
                figures.remove(system + ".drain." + backlog);
                return;
            }
            double median = median(times);
            cells.put(system, kept.get(times.indexOf(median)).cell() + " [median of " + joined(times) + "]");
            figures.put(key, median);
            if (key.contains("is back")) {
                figures.put(system + ".drain." + backlog, median); // the target's: a home that starts
            }
        });
    }

    /** The middle value (the upper one of an even count). */
    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    static String joined(List<Double> values) {
        return values.stream().map(Benchmark::fmt).collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * The same drain by the e-mail peer: {@code count} voicemails with {@code seconds} s recordings (the
     * mu-law WAV vmesh migrates, base64 in MIME) submitted over SMTP to the sending Postfix while the
     * receiving one is stopped; then the receiver starts and {@code postqueue -f}: the time from its start
     * until every message is a file in its Maildirs (the last file's mtime), and the CPU of both instances'
     * processes per message. Same row as vmesh's drain of the same backlog, in the Postfix column.
     */
    void postfixDrain(String home, int count, int seconds, int firstExtension) throws Exception {
        String row = "drain " + count + " x " + seconds + " s after " + home + " is back (s)";
        if (postfix == null && postfixSkipped == null) {
            postfixSkipped = PostfixSut.unavailable();
            if (postfixSkipped == null) {
                postfix = new PostfixSut(dir.resolve("postfix"));
                postfix.start();
                log("postfix: sender up, receiver down (" + postfix.version() + ")");
            }
        }
        if (postfixSkipped != null) {
            log("postfix: skipped: " + postfixSkipped);
            table.computeIfAbsent(row, r -> new LinkedHashMap<>()).put("postfix", "skipped: " + postfixSkipped);
            return;
        }
        postfix.stopReceiver();
        long submitted = System.nanoTime();
        int bytes = postfix.submit(count, firstExtension, seconds);
        log(String.format(Locale.ROOT, "postfix: queued %d e-mails of %.0f KB for the receiver (down) in %.1f s", count,
                bytes / 1024.0, (System.nanoTime() - submitted) / 1e9));
        // every one was accepted (250) into the sender's queue; it has tried the receiver and deferred them
        Thread.sleep(2000);
        log(probes());
        MachineProbe.MachineCounters machine = MachineProbe.machineCounters();
        long launchMs = System.currentTimeMillis();
        postfix.startReceiver();
        long backMs = System.currentTimeMillis();
        double cpuA = postfix.cpuMillis(false);
        double cpuB = postfix.cpuMillis(true);
        double cpuObserver = Sut.cpuMillis(ProcessHandle.current().pid());
        postfix.flush();
        Map<Path, Long> delivered = new LinkedHashMap<>();
        long deadline = System.nanoTime() + drainTimeoutS * 1_000_000_000L;
        while (delivered.size() < count && System.nanoTime() < deadline) {
            postfix.collectDelivered(delivered);
            if (delivered.size() < count) {
                Thread.sleep(250);
            }
        }
        long lastMs = delivered.values().stream().mapToLong(Long::longValue).max().orElse(backMs);
        int[] perTwoSeconds = new int[(int) (Math.max(0, lastMs - backMs) / 2000) + 1];
        delivered.values().forEach(t -> perTwoSeconds[(int) Math.min(perTwoSeconds.length - 1, Math.max(0, (t - backMs) / 2000))]++);
        log("postfix " + home + " drain, messages delivered per 2 s: " + Arrays.toString(perTwoSeconds)
                + (delivered.isEmpty() ? "" : "; the first " + (Collections.min(delivered.values()) - backMs) + " ms after it was back"));
        double cpuPerMessageA = (postfix.cpuMillis(false) - cpuA) / count;
        double cpuPerMessageB = (postfix.cpuMillis(true) - cpuB) / count;
        double observerS = (Sut.cpuMillis(ProcessHandle.current().pid()) - cpuObserver) / 1000;
        Map<String, String> cells = table.computeIfAbsent(row, r -> new LinkedHashMap<>());
        if (delivered.size() >= count) {
            double fromBack = (lastMs - backMs) / 1e3;
            cells.put("postfix", String.format(Locale.ROOT, "%.1f (%.1f from launch, %.0f msg/s, CPU %.1f+%.1f ms/msg)", fromBack,
                    (lastMs - launchMs) / 1e3, count / fromBack, cpuPerMessageA, cpuPerMessageB));
            figures.put("postfix." + row, fromBack);
        } else {
            cells.put("postfix", String.format(Locale.ROOT, "NOT DONE: %d of %d after %d s", delivered.size(), count, drainTimeoutS));
            log("postfix sender log: " + postfix.log(false));
            log("postfix receiver log: " + postfix.log(true));
        }
        conditions.merge(row, "postfix: " + MachineProbe.machineCounters().since(machine), (a, b) -> a + "\n    " + b);
        log("postfix " + row + ": " + cells.get("postfix")
                + String.format(Locale.ROOT, "; the benchmark's own CPU meanwhile: %.1f s", observerS));
        if (delivered.size() > count) {
            throw new IllegalStateException("postfix delivered " + delivered.size() + " files for " + count + " messages");
        }
        postfix.cleanMaildirs(delivered.keySet());
        int left = postfix.awaitEmptyQueue(30);
        if (left > 0) {
            log("postfix: " + left + " messages still in the sender's queue after the drain; sender log: " + postfix.log(false));
        }
    }

    /** Waits until every message of the run is durable on east; returns when the last one was seen (nanoTime). */
    long awaitDurable(Sut s, LoadClient.Run run, long timeoutS) throws Exception {
        Set<LoadClient.Sent> remaining = new LinkedHashSet<>(run.sent());
        long last = System.nanoTime();
        long deadline = last + timeoutS * 1_000_000_000L;
        while (!remaining.isEmpty()) {
            if (removeDurable(s, "east", remaining) >= 0) {
                last = System.nanoTime();
            }
            if (remaining.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                log(s.name() + ": " + remaining.size() + " messages NOT on east after " + timeoutS + " s; counted as missing");
                missing.put(s.name(), missing.getOrDefault(s.name(), 0) + remaining.size());
                run.sent().removeAll(remaining);
                break;
            }
            Thread.sleep(20);
        }
        return last;
    }

    /**
     * Removes the messages now durable on the site (their JSON, written last, is in the mailbox) and returns
     * the latest modification time among them (epoch ms), or -1 if none arrived. One directory listing per
     * mailbox that still waits for one, then a stat per message that arrived: the benchmark shares the two
     * cores it measures, and a stat for each waiting message every 50 ms took a tenth of a core in a drain.
     */
    static long removeDurable(Sut s, String site, Set<LoadClient.Sent> remaining) throws IOException {
        return removeDurable(s, site, remaining, new ArrayList<>());
    }

    /** As above, and adds the arrived messages' modification times (epoch ms) to arrivals. */
    static long removeDurable(Sut s, String site, Set<LoadClient.Sent> remaining, List<Long> arrivals) throws IOException {
        Set<String> extensions = new HashSet<>();
        remaining.forEach(m -> extensions.add(m.extension()));
        Set<String> stored = new HashSet<>();
        for (String extension : extensions) {
            Path mailbox = s.mailboxes(site).resolve(extension);
            if (Files.isDirectory(mailbox)) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(mailbox, "*.json")) {
                    files.forEach(f -> stored.add(extension + "/" + f.getFileName()));
                }
            }
        }
        long latest = -1;
        for (Iterator<LoadClient.Sent> i = remaining.iterator(); i.hasNext();) {
            LoadClient.Sent m = i.next();
            if (stored.contains(m.extension() + "/" + m.messageId() + ".json")) {
                long written = Files.getLastModifiedTime(durable(s, site, m)).toMillis();
                arrivals.add(written);
                latest = Math.max(latest, written);
                i.remove();
            }
        }
        return latest;
    }

    /** When the message's JSON (written last) landed on its home, minus when its call was sent. */
    double deliveryMs(Sut s, LoadClient.Sent m) {
        try {
            return Files.getLastModifiedTime(durable(s, "east", m)).toMillis() - m.sentAtMs();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path durable(Sut s, String site, LoadClient.Sent m) {
        return s.mailboxes(site).resolve(m.extension()).resolve(m.messageId() + ".json");
    }

    /**
     * Measured messages leave the mailboxes once counted, so that they hold only what is pending. They are
     * moved aside (deleted with the rest at the end of the run), not deleted: on ext4 without a journal,
     * every file created in a block group skips the inodes deleted there in the last minutes, and the next
     * row's home would create its 10,000 messages beside the 20,000 files the benchmark had just deleted
     * (measured: 14% of a warm home's CPU in the drain after an outage), a cost no server of a company pays.
     */
    static void clean(Sut s, String site, List<LoadClient.Sent> sent) throws IOException {
        Path counted = s.mailboxes(site).getParent().resolveSibling("counted-" + site);
        Files.createDirectories(counted);
        for (LoadClient.Sent m : sent) {
            Path json = durable(s, site, m);
            for (Path f : new Path[] {json, json.resolveSibling(m.messageId() + ".wav")}) {
                if (Files.exists(f)) {
                    Files.move(f, counted.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static double[] percentiles(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return new double[] {v[(int) Math.min(v.length - 1, Math.ceil(0.50 * v.length) - 1)],
                v[(int) Math.min(v.length - 1, Math.ceil(0.99 * v.length) - 1)]};
    }

    static String retries(LoadClient.Run run) {
        return run.retried429() + run.retried503() + run.retriedErrors() == 0 ? ""
                : " [retried: " + run.retried429() + "x429, " + run.retried503() + "x503, " + run.retriedErrors() + "x error]";
    }

    void put(String row, Sut s, String value) {
        table.computeIfAbsent(row, r -> new LinkedHashMap<>()).put(s.name(), value);
    }

    double fig(String key) {
        Double v = figures.get(key);
        return v == null ? Double.NaN : v;
    }

    void printTable() {
        int w = table.keySet().stream().mapToInt(String::length).max().orElse(10);
        StringBuilder out = new StringBuilder("\n");
        // the Postfix column (the e-mail peer's drains) only when its workload ran
        boolean mail = table.values().stream().anyMatch(cells -> cells.containsKey("postfix"));
        out.append(String.format(Locale.ROOT, "%-" + w + "s | %-58s | %-58s | %-9s%s%n", "workload", "raw JDK baseline", "vmesh", "vmesh/raw",
                mail ? String.format(Locale.ROOT, " | %-58s | %s", "Postfix", "Postfix/vmesh (time)") : ""));
        out.append("-".repeat(w + (mail ? 224 : 140))).append('\n');
        for (Map.Entry<String, Map<String, String>> row : table.entrySet()) {
            String raw = row.getValue().getOrDefault("raw", "-");
            String vm = row.getValue().getOrDefault("vmesh", "-");
            double ratio = fig("vmesh." + row.getKey()) / fig("raw." + row.getKey());
            double mailRatio = fig("postfix." + row.getKey()) / fig("vmesh." + row.getKey());
            out.append(String.format(Locale.ROOT, "%-" + w + "s | %-58s | %-58s | %-9s%s%n", row.getKey(), raw, vm,
                    Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2f", ratio),
                    !mail ? "" : String.format(Locale.ROOT, " | %-58s | %s", row.getValue().getOrDefault("postfix", "-"),
                            Double.isNaN(mailRatio) ? "" : String.format(Locale.ROOT, "%.2f", mailRatio))));
        }
        String rec = "record 30 s, 0 pending (msg/s)";
        String mig = "migrate 30 s, 0 pending (msg/s)";
        double recordRatio = fig("vmesh." + rec) / fig("raw." + rec);
        double migrateRatio = fig("vmesh." + mig) / fig("raw." + mig);
        double p99 = fig("vmesh.paced.p99");
        double rawP99 = fig("raw.paced.p99");
        if (!conditions.isEmpty()) {
            out.append("\nwhat each drain spent its CPU on (per message, sender hq and the home), and the machine meanwhile:\n");
            conditions.forEach((row, line) -> out.append("  ").append(row).append(":\n    ").append(line).append('\n'));
        }
        out.append("\nmessages answered 201 but not delivered in time: " + (missing.isEmpty() ? "none" : missing) + "\n");
        out.append("\ntargets:\n");
        out.append(target("record_ratio >= 0.8", recordRatio >= 0.8, String.format(Locale.ROOT, "%.2f", recordRatio)));
        out.append(target("migrate_ratio >= 0.8", migrateRatio >= 0.8, String.format(Locale.ROOT, "%.2f", migrateRatio)));
        double drain10k = fig("vmesh.drain.10000");
        // the absolute drain target (10,000 in 20 s) gave way to the two drain ratios below (issue 16)
        out.append(target("p99 delivery at " + fmt(paced) + " calls/s <= baseline + 50 ms", p99 <= rawP99 + 50,
                fmt(p99) + " ms vs baseline " + fmt(rawP99) + " ms"));
        out.append(target("heap with 10k pending <= 256 MB", fig("vmesh.heap10k") <= 256, fmt(fig("vmesh.heap10k")) + " MB"));
        int lo = pendingLevels.get(0);
        int hi = pendingLevels.get(pendingLevels.size() - 1);
        for (String kind : new String[] {"record", "migrate"}) {
            double a = fig("vmesh." + kind + " 30 s, " + lo + " pending (msg/s)");
            double b = fig("vmesh." + kind + " 30 s, " + hi + " pending (msg/s)");
            out.append(target(kind + " with " + hi + " pending within 10% of " + lo + " pending"
                    + (hi < 100_000 ? " (100k: see docs/performance.md)" : "")
                    , b >= 0.9 * a, String.format(Locale.ROOT, "%.1f vs %.1f msg/s (%+.0f%%)", b, a, 100 * (b / a - 1))));
        }
        // issue 16: the same backlog drained by Postfix and by vmesh into a home that starts; and vmesh into a
        // home that starts against one that stayed up (the outage row)
        String backlog = "drain " + hi + " x " + seedSeconds + " s after west is back (s)";
        double postfixRatio = fig("postfix." + backlog) / fig("vmesh." + backlog);
        double coldWarm = fig("vmesh." + backlog) / fig("vmesh.drain " + hi + " x " + seedSeconds + " s after an outage, west running (s)");
        if (!Double.isNaN(postfixRatio)) {
            // three places: the RESULT line's two would print a miss (1.308 > 1.3) as 1.30
            out.append(target("Postfix drain time / vmesh drain time (" + hi + " pending) >= 1.5", postfixRatio >= 1.5,
                    String.format(Locale.ROOT, "%.3f", postfixRatio)));
        }
        if (!Double.isNaN(coldWarm)) {
            out.append(target("drain into a restarted home / into one that stayed up (" + hi + " pending) <= 1.3", coldWarm <= 1.3,
                    String.format(Locale.ROOT, "%.3f", coldWarm)));
        }
        out.append(String.format(Locale.ROOT,
                "%nRESULT record_per_s=%s record_ratio=%s migrate_per_s=%s migrate_ratio=%s drain_10k_s=%s p99_delivery_ms=%s heap_mb_10k_pending=%s%s%s%n",
                fmt(fig("vmesh." + rec)), fmt2(recordRatio), fmt(fig("vmesh." + mig)), fmt2(migrateRatio),
                fmt(drain10k), fmt(p99), fmt(fig("vmesh.heap10k")),
                Double.isNaN(postfixRatio) ? "" : " postfix_drain_ratio=" + fmt2(postfixRatio),
                Double.isNaN(coldWarm) ? "" : " cold_warm_drain_ratio=" + fmt2(coldWarm)));
        System.out.print(out);
        System.out.flush();
    }

    static String target(String what, boolean met, String value) {
        return String.format(Locale.ROOT, "  %-4s %s: %s%n", value.startsWith("NA") ? "n/a" : met ? "MET" : "MISS", what, value);
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "NA" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String fmt2(double v) {
        return Double.isNaN(v) ? "NA" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** The vCPU's speed and what creating a message's file costs, right now (both vary from machine to machine). */
    String probes() throws Exception {
        double[] file = MachineProbe.fileProbe(dir, 200);
        double[] cpu = MachineProbe.cpuProbeMs();
        return String.format(Locale.ROOT, "probes: SHA-256 of 64 MB in %.0f ms of CPU (%.0f ms wall); a 40 KB file created"
                + " and forced in %.2f ms (%.2f ms of system CPU)", cpu[0], cpu[1], file[0], file[1]);
    }

    static void log(String line) {
        System.out.printf(Locale.ROOT, "[bench %tT] %s%n", System.currentTimeMillis(), line);
        System.out.flush();
    }

    static void deleteTree(Path root) throws IOException {
        if (Files.exists(root)) {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
