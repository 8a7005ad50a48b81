package io.vmesh.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What a drain's figures are sensitive to, read off the machine in the same run: the same code drained
 * 10,000 messages in 21 s on one machine and 69 s on another of the same kind, with three times the CPU
 * per message. A drain is CPU-bound (both cores busy), so whatever makes a message cost more CPU shows in
 * it: a slower or contended vCPU ({@link #cpuProbeMs}, steal), the JIT of a home that has just started
 * (its compiler threads' CPU), the garbage collector, the kernel creating files ({@link #fileProbe}: on
 * ext4 without a journal, each new inode's allocation skips every inode deleted in the last minutes), and
 * page cache the host reclaimed (a backlog read back from disk: refaults).
 */
final class MachineProbe {

    private static final double MS_PER_TICK = 10; // USER_HZ 100 on Linux

    /** A process's CPU so far, ms: user, system, and of both, the JIT compiler threads' and the GC threads'. */
    record ProcessCpu(double user, double sys, double jit, double gc) {
        ProcessCpu minus(ProcessCpu before) {
            return new ProcessCpu(user - before.user, sys - before.sys, jit - before.jit, gc - before.gc);
        }

        String perMessage(int count) {
            return String.format(Locale.ROOT, "user %.2f + sys %.2f ms/msg (JIT %.2f, GC and VM thread %.2f)",
                    user / count, sys / count, jit / count, gc / count);
        }
    }

    /** The machine's counters: steal and total CPU ticks, page cache refaults (pages), KB read from disk. */
    record MachineCounters(long steal, long total, long refaults, long readKb) {
        String since(MachineCounters before) {
            long ticks = Math.max(1, total - before.total);
            return String.format(Locale.ROOT, "steal %.1f%% of the CPU, %d MB read from disk (%d page cache refaults)",
                    100.0 * (steal - before.steal) / ticks, (readKb - before.readKb) / 1024, refaults - before.refaults);
        }
    }

    private MachineProbe() {
    }

    static ProcessCpu processCpu(long pid) {
        double user = 0;
        double sys = 0;
        double jit = 0;
        double gc = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                double u = Long.parseLong(f[11]) * MS_PER_TICK;
                double s = Long.parseLong(f[12]) * MS_PER_TICK;
                if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
                    jit += u + s;
                } else if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.equals("VM Thread")) {
                    gc += u + s;
                }
            }
            // the process's own totals include threads that have ended
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            user = Long.parseLong(f[11]) * MS_PER_TICK;
            sys = Long.parseLong(f[12]) * MS_PER_TICK;
        } catch (IOException e) {
            return new ProcessCpu(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new ProcessCpu(user, sys, jit, gc);
    }

    static MachineCounters machineCounters() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i <= 8 && i < cpu.length; i++) {
                total += Long.parseLong(cpu[i]);
            }
            long steal = cpu.length > 8 ? Long.parseLong(cpu[8]) : 0;
            long refaults = 0;
            long readKb = 0;
            for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
                String[] kv = line.split(" ");
                if (kv[0].equals("workingset_refault_file")) {
                    refaults = Long.parseLong(kv[1]);
                } else if (kv[0].equals("pgpgin")) {
                    readKb = Long.parseLong(kv[1]);
                }
            }
            return new MachineCounters(steal, total, refaults, readKb);
        } catch (IOException | RuntimeException e) {
            return new MachineCounters(0, 0, 0, 0);
        }
    }

    /** The CPU, its clock source, the kernel and the file system the data is on. */
    static String describe(Path dataDir) {
        String model = firstMatch(Path.of("/proc/cpuinfo"), "model name");
        String mhz = firstMatch(Path.of("/proc/cpuinfo"), "cpu MHz");
        String clock = read(Path.of("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
        String kernel = read(Path.of("/proc/sys/kernel/osrelease"));
        return String.format(Locale.ROOT, "%s, %d CPUs at %s MHz, clock source %s, Linux %s; data on %s",
                model, Runtime.getRuntime().availableProcessors(), mhz, clock, kernel, mountOf(dataDir));
    }

    /**
     * A fixed piece of CPU work (SHA-256 of 64 MB), the best of three: its CPU time and its wall time, ms.
     * A slower vCPU (a busy neighbour on the host's core, a lower clock) raises both; other processes on
     * this machine raise only the wall time.
     */
    static double[] cpuProbeMs() throws Exception {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        byte[] block = new byte[1 << 20];
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        for (int round = 0; round < 3; round++) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < 64; i++) {
                sha.update(block);
            }
            sha.digest();
            best[0] = Math.min(best[0], (threads.getCurrentThreadCpuTime() - cpu0) / 1e6);
            best[1] = Math.min(best[1], (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    /**
     * What creating a message's file costs here: {@code count} files of 40 KB created, written, forced and
     * closed in {@code dir}, then deleted. Returns the wall ms per file and this JVM's system CPU ms per file.
     */
    static double[] fileProbe(Path dir, int count) throws IOException {
        Path probe = Files.createDirectories(dir.resolve("file-probe"));
        ByteBuffer content = ByteBuffer.allocate(40_000);
        List<Path> files = new ArrayList<>();
        double sys0 = processCpu(ProcessHandle.current().pid()).sys();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Path f = probe.resolve("probe-" + i);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(content.clear());
                ch.force(true);
            }
            files.add(f);
        }
        double wallMs = (System.nanoTime() - t0) / 1e6 / count;
        double sysMs = (processCpu(ProcessHandle.current().pid()).sys() - sys0) / count;
        for (Path f : files) {
            Files.delete(f);
        }
        Files.delete(probe);
        return new double[] {wallMs, sysMs};
    }

    private static String mountOf(Path dir) {
        String best = "?";
        int bestLength = -1;
        try {
            String path = dir.toRealPath().toString();
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 3 && (path.equals(f[1]) || path.startsWith(f[1].endsWith("/") ? f[1] : f[1] + "/"))
                        && f[1].length() > bestLength) {
                    bestLength = f[1].length();
                    best = f[2] + " (" + f[3] + ")";
                }
            }
        } catch (IOException e) {
            return best;
        }
        return best;
    }

    private static String firstMatch(Path file, String key) {
        try {
            return Files.readAllLines(file).stream().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
