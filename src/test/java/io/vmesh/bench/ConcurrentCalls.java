package io.vmesh.bench;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.sun.management.ThreadMXBean;

import io.vmesh.switches.sip.media.EndReason;
import io.vmesh.switches.sip.media.MediaSession;
import io.vmesh.switches.sip.media.MediaSessions;
import io.vmesh.switches.sip.media.MediaSettings;
import io.vmesh.switches.sip.media.MediaStatistics;
import io.vmesh.switches.sip.media.Recording;

/**
 * Concurrent G.711 calls that one server's media layer records: vmesh's {@link MediaSessions} (the RTP
 * port pool, its selector and clock threads) against a UDP load generator in the same JVM, every call
 * on 127.0.0.1 with its own socket. Each call: vmesh plays a prompt, the caller talks (a tone of its
 * own, 20 ms packets), presses '#'; the recording must hold exactly the caller's packets. SIP
 * signalling is not part of this row. Loss "inside vmesh" = packets the generator handed to the kernel
 * that vmesh's sockets never delivered (loopback drops nothing else).
 *
 * <pre>mvn -B -Pbench -DskipTests verify -Dbench.args="-Dbench.workloads=calls"</pre>
 */
final class ConcurrentCalls extends CallBench {

    static final Duration PROMPT = Duration.ofSeconds(2);
    /** The caller waits this long past the prompt before talking, as a caller waits for the tone. */
    static final Duration AFTER_PROMPT = Duration.ofMillis(1000);

    ConcurrentCalls(Path dir, boolean quick) {
        super(dir, quick, "bench.calls", "64", "254,1000");
    }

    public static void main(String[] args) throws Exception {
        runAlone(new ConcurrentCalls(benchDir("calls"), Boolean.getBoolean("bench.quick")));
    }

    @Override
    String name() {
        return "concurrent calls";
    }

    @Override
    String header() {
        return String.format(Locale.ROOT, "%-8s | %-9s | %-38s | %-11s | %-34s | %s", "calls", "complete",
                "caller RTP sent / recorded / lost in vmesh", "loss", "vmesh RTP sent (dropped / skipped)", "CPU: media threads / whole JVM");
    }

    @Override
    String footer() {
        return "(G.711 20 ms packets, " + PROMPT.toSeconds() + " s prompt then " + talkSeconds + " s of the caller and '#'; "
                + "media layer only: SIP signalling not included; the load generator runs in the same JVM on the same "
                + Runtime.getRuntime().availableProcessors() + " cores)";
    }

    /** One run: {@code calls} calls at once, started within a second, each checked. */
    @Override
    String level(int calls) throws Exception {
        Path here = dir.resolve(String.valueOf(calls));
        Files.createDirectories(here);
        int first = 24000; // apart from a running server's default range (20000-20999)
        InetAddress loopback = InetAddress.getLoopbackAddress();
        MediaSettings settings = new MediaSettings(loopback, first, first + 2 * calls + 99, Duration.ofMinutes(5), Duration.ofSeconds(10));
        byte[] prompt = tone(PROMPT, 425);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ScheduledExecutorService generator = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "caller-generator");
            t.setDaemon(true);
            return t;
        });
        List<Caller> callers = new ArrayList<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        long cpuJvm0;
        long cpuMedia0;
        long cpuJvm1;
        long cpuMedia1;
        long wall0;
        long wall1;
        try (MediaSessions pool = new MediaSessions(settings)) {
            for (int i = 0; i < calls; i++) {
                MediaSession session = pool.open(here.resolve("call-" + i + ".partial.wav"));
                callers.add(new Caller(i, session, loopback));
            }
            wall0 = System.nanoTime();
            cpuJvm0 = os.getProcessCpuTime();
            cpuMedia0 = mediaCpu(threads);
            for (Caller c : callers) {
                long delay = ThreadLocalRandom.current().nextLong(1_000_000_000L);
                generator.schedule(c::start, delay, TimeUnit.NANOSECONDS);
            }
            long tick = 20_000_000L;
            generator.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                for (Caller c : callers) {
                    c.tick(now);
                }
            }, tick, tick, TimeUnit.NANOSECONDS);
            long deadline = System.nanoTime() + PROMPT.toNanos() + AFTER_PROMPT.toNanos() + TimeUnit.SECONDS.toNanos(talkSeconds + 30);
            for (Caller c : callers) {
                try {
                    EndReason reason = c.session.ended().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (reason != EndReason.HASH) {
                        failures.add("call " + c.index + " ended by " + reason);
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    failures.add("call " + c.index + " did not end");
                }
            }
            wall1 = System.nanoTime();
            cpuJvm1 = os.getProcessCpuTime();
            cpuMedia1 = mediaCpu(threads);
            generator.shutdownNow();
            long sent = 0;
            long recorded = 0;
            long lostInVmesh = 0;
            long vmeshSent = 0;
            long vmeshDropped = 0;
            long vmeshSkipped = 0;
            int complete = 0;
            for (Caller c : callers) {
                MediaStatistics stats = c.session.statistics();
                Recording recording = c.session.finish();
                sent += c.sentAudio + c.sentEvents;
                recorded += stats.received();
                lostInVmesh += Math.max(0, c.sentAudio + c.sentEvents - stats.received());
                vmeshSent += stats.sent();
                vmeshDropped += stats.sendsDropped();
                vmeshSkipped += stats.sendsSkipped();
                byte[] got = samples(recording.wav());
                if (Arrays.equals(got, c.spoken())) {
                    complete++;
                } else {
                    failures.add("call " + c.index + ": recorded " + got.length + " samples, the caller sent " + c.spoken().length
                            + " (" + stats + ")");
                }
                c.session.close();
                c.socket.close();
            }
            double seconds = (wall1 - wall0) / 1e9;
            failures.stream().limit(5).forEach(f -> Benchmark.log("concurrent calls " + calls + ": " + f));
            return String.format(Locale.ROOT, "%-8d | %-9s | %-38s | %-11s | %-34s | %.0f%% / %.0f%% of one core",
                    calls, complete + "/" + calls, sent + " / " + recorded + " / " + lostInVmesh,
                    String.format(Locale.ROOT, "%.4f%%", 100.0 * lostInVmesh / Math.max(1, sent)),
                    vmeshSent + " (" + vmeshDropped + " / " + vmeshSkipped + ")",
                    100.0 * (cpuMedia1 - cpuMedia0) / 1e9 / seconds, 100.0 * (cpuJvm1 - cpuJvm0) / 1e9 / seconds);
        } finally {
            generator.shutdownNow();
        }
    }

    private static long mediaCpu(ThreadMXBean threads) {
        long sum = 0;
        for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("vmesh-rtp")) {
                sum += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return sum;
    }

    /** One caller: its own socket, its own tone, sent paced at 20 ms from its own start. */
    final class Caller {
        final int index;
        final MediaSession session;
        final DatagramChannel socket;
        final byte[] voice;
        final int packets = talkSeconds * 50;
        final ByteBuffer out = ByteBuffer.allocate(12 + PACKET);
        final InetSocketAddress vmesh;
        final int ssrc = ThreadLocalRandom.current().nextInt();
        volatile long talkFrom = Long.MAX_VALUE;
        int next;
        int seq = ThreadLocalRandom.current().nextInt(65536);
        long sentAudio;
        long sentEvents;

        Caller(int index, MediaSession session, InetAddress loopback) throws Exception {
            this.index = index;
            this.session = session;
            this.socket = DatagramChannel.open();
            socket.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096); // vmesh's prompt is not listened to
            socket.bind(new InetSocketAddress(loopback, 0));
            socket.configureBlocking(false);
            this.vmesh = new InetSocketAddress(loopback, session.localPort());
            this.voice = ulaw(tone(Duration.ofSeconds(talkSeconds), 300 + 3 * index));
        }

        void start() {
            session.start((InetSocketAddress) localAddress(), 0, 101, tone(PROMPT, 425));
            talkFrom = System.nanoTime() + PROMPT.toNanos() + AFTER_PROMPT.toNanos();
        }

        private java.net.SocketAddress localAddress() {
            try {
                return socket.getLocalAddress();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        byte[] spoken() {
            return voice;
        }

        void tick(long now) {
            long due = now < talkFrom ? 0 : Math.min(packets + 4, (now - talkFrom) / 20_000_000L + 1);
            while (next < due) {
                rtpPacket(out, voice, packets, next, seq, ssrc);
                try {
                    if (socket.send(out, vmesh) > 0) {
                        if (next < packets) {
                            sentAudio++;
                        } else {
                            sentEvents++;
                        }
                    }
                } catch (java.io.IOException e) {
                    // counted as not sent
                }
                next++;
                seq = (seq + 1) & 0xffff;
            }
        }
    }

    private static final java.util.Map<Long, byte[]> TONES = new java.util.concurrent.ConcurrentHashMap<>();

    /** 16-bit little-endian PCM of a tone, cached (the same array for the same tone). */
    static byte[] tone(Duration length, int hz) {
        return TONES.computeIfAbsent(length.toMillis() * 100_000 + hz, k -> {
            int n = (int) (length.toMillis() * 8);
            ByteBuffer b = ByteBuffer.allocate(2 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                b.putShort((short) (6000 * Math.sin(2 * Math.PI * hz * i / 8000.0)));
            }
            return b.array();
        });
    }

    static byte[] ulaw(byte[] pcm16) throws Exception {
        AudioFormat pcm = new AudioFormat(8000f, 16, 1, true, false);
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(pcm16), pcm, pcm16.length / 2);
             AudioInputStream out = AudioSystem.getAudioInputStream(new AudioFormat(AudioFormat.Encoding.ULAW, 8000f, 8, 1, 1, 8000f, false), in)) {
            return out.readAllBytes();
        }
    }

    static byte[] samples(byte[] wav) throws Exception {
        try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(wav))) {
            return in.readAllBytes();
        }
    }
}
