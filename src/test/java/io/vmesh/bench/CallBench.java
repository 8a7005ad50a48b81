package io.vmesh.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the two call benches share: their levels (calls at once) and the caller's talk time from
 * system properties, their table of one row a level, and the RTP the callers send.
 */
abstract class CallBench {

    static final int PACKET = 160;

    final Path dir;
    final List<Integer> levels;
    final int talkSeconds;
    private final List<String> lines = new ArrayList<>();

    /** {@code levelsProperty} names the comma-separated levels; {@code bench.callSeconds} the talk time. */
    CallBench(Path dir, boolean quick, String levelsProperty, String quickLevels, String fullLevels) {
        this.dir = dir;
        this.levels = Arrays.stream(System.getProperty(levelsProperty, quick ? quickLevels : fullLevels).split(","))
                .map(String::trim).map(Integer::valueOf).toList();
        this.talkSeconds = Integer.getInteger("bench.callSeconds", quick ? 5 : 20);
    }

    /** Runs {@code bench} from the command line ({@code bench.dir}, {@code bench.quick}) and prints its table. */
    static void runAlone(CallBench bench) throws Exception {
        bench.run();
        bench.lines().forEach(System.out::println);
        System.exit(0);
    }

    static Path benchDir(String name) {
        return Path.of(System.getProperty("bench.dir", "target/bench")).resolve(name);
    }

    List<String> lines() {
        return lines;
    }

    void run() throws Exception {
        lines.add(header());
        for (int calls : levels) {
            lines.add(level(calls));
            Benchmark.log(name() + ": " + lines.get(lines.size() - 1));
        }
        lines.add(footer());
    }

    /** The name the log gives a row. */
    abstract String name();

    abstract String header();

    /** One row: {@code calls} calls at once. */
    abstract String level(int calls) throws Exception;

    abstract String footer();

    /**
     * Puts the caller's RTP packet {@code next} into {@code out}, ready to send: G.711 mu-law
     * (payload type 0) from {@code voice} for the first {@code packets}, then '#' pressed and its end
     * three times (RFC 4733, payload type 101).
     */
    static void rtpPacket(ByteBuffer out, byte[] voice, int packets, int next, int seq, int ssrc) {
        out.clear();
        out.put((byte) 0x80).put((byte) (next < packets ? 0 : 101)).putShort((short) seq).putInt(next * PACKET).putInt(ssrc);
        if (next < packets) {
            out.put(voice, next * PACKET, PACKET);
        } else {
            out.put((byte) 11).put((byte) (next == packets ? 10 : 0x80 | 10)).putShort((short) 800);
        }
        out.flip();
    }
}
