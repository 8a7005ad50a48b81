package io.vmesh.bench;

import io.vmesh.tools.ServerProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A system under test: three sites (hq as A, east as B, west never started), vmesh or the raw baseline. */
interface Sut extends AutoCloseable {

    String name();

    /** Starts hq and east; west stays down, so what is queued for it stays pending. */
    void start() throws Exception;

    String dataUrl(String site);

    /** The mailboxes directory of a site: {@code <ext>/<id>.json} once a message is durable there. */
    Path mailboxes(String site);

    void stop(String site) throws Exception;

    void start(String site) throws Exception;

    long pid(String site);

    @Override
    void close() throws Exception;

    /**
     * The servers' JVM options, the same for both systems: as an operator runs vmesh (the options
     * bin/vmesh gives java, read from it), with the heap the targets are stated for.
     * {@code -Dbench.jvm="..."} changes them, e.g. to the process tests' {@code -XX:+UseSerialGC -XX:TieredStopAtLevel=1}.
     */
    List<String> JVM_OPTIONS = List.of(System.getProperty("bench.jvm", "-Xmx256m " + launcherOptions()).trim().split("\\s+"));

    /** The JVM options of the distribution's launcher ({@code -Dvmesh.launcher}: src/dist/bin/vmesh): what it puts before $JAVA_OPTS. */
    private static String launcherOptions() {
        Path launcher = Path.of(System.getProperty("vmesh.launcher", "src/dist/bin/vmesh"));
        try {
            Matcher m = Pattern.compile("(?m)^exec \"\\$java\" (.*?) ?\\$JAVA_OPTS").matcher(Files.readString(launcher));
            if (!m.find()) {
                throw new IllegalStateException(launcher + " has no line 'exec \"$java\" ... $JAVA_OPTS'");
            }
            return m.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the launcher's JVM options", e);
        }
    }

    HttpClient PROBE = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    static boolean healthy(String url) {
        return io.vmesh.tools.ServerProcess.answersOk(PROBE, URI.create(url + "/health"));
    }

    /** Heap in use after a full GC, MB, from {@code jcmd <pid> GC.run} and {@code GC.heap_info}. */
    static double heapMbAfterGc(long pid) throws Exception {
        run("jcmd", String.valueOf(pid), "GC.run");
        String info = run("jcmd", String.valueOf(pid), "GC.heap_info");
        // Serial GC prints a line per generation, Parallel GC one per PSYoungGen and ParOldGen; G1 one "garbage-first
        // heap" line ("total 262144K, used ..." up to JDK 17, "total reserved 262144K, committed ..., used ..." in later JDKs)
        Matcher m = Pattern.compile("(?:generation|PSYoungGen|ParOldGen|garbage-first heap)\\s+total [^\\n]*?used (\\d+)K").matcher(info);
        long kb = 0;
        boolean found = false;
        while (m.find()) {
            kb += Long.parseLong(m.group(1));
            found = true;
        }
        if (!found) {
            throw new IllegalStateException("cannot read the heap of " + pid + ":\n" + info);
        }
        return kb / 1024.0;
    }

    /**
     * The sites' data directories under {@code root} each in a block group of its own, as on the separate
     * disks of separate servers: with ext4's "top directory" flag on {@code root}, the Orlov allocator spreads
     * its subdirectories. Without it the sender's spool and the home's mailboxes share a group, and on ext4
     * without a journal every file the home creates skips the inodes the sender has just deleted (measured:
     * 17% of a home's CPU in a drain). Where {@code chattr} or the flag is missing, nothing changes.
     */
    static Path separateSites(Path root) throws Exception {
        Files.createDirectories(root);
        try {
            run("chattr", "+T", root.toString());
        } catch (IOException noChattr) {
            // not ext2/3/4 tools: the sites share whatever the file system does
        }
        return root;
    }

    /**
     * A site's data directory: named for the site and this run. ext4 places a top directory by a hash of its
     * name, so with the site's name alone every run's west landed in the block group the last run's west had
     * just emptied, and a home started within minutes of that run's end (the next run's drain after a
     * restart, back to back) skipped those 20,000 deleted inodes at each file it created.
     */
    static Path siteDirectory(Path root, String site) {
        return root.resolve(site + "-" + RUN);
    }

    /** This run's name for its site directories: the time it started, in seconds, base 36. */
    String RUN = Long.toString(System.currentTimeMillis() / 1000, 36);

    /** CPU time (user + system) the process has used so far, ms, from /proc (Linux). */
    static double cpuMillis(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
        return ticks * 1000.0 / 100; // USER_HZ: 100 on Linux
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
