package io.vmesh.switches.sip.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vmesh.audio.AudioCodec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A call's RTP against a real UDP far end on 127.0.0.1: what is played to it and what is recorded. */
class CallMediaTest {

    static final int PCMU = 0, PCMA = 8, EVENTS = 101;
    static final Duration LONG = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private MediaSessions pool;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final java.util.Map<MediaSession, FarEnd> farEnds = new java.util.HashMap<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void reorderedPacketsAreRecordedInSequenceOrder() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        List<Integer> order = new ArrayList<>();
        for (int block = 0; block < 40; block += 5) {
            for (int i = block + 4; i >= block; i--) {
                order.add(i); // each run of five arrives backwards
            }
        }
        for (int seq : order) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        awaitReceived(call, 40);

        Recording recording = call.finish();

        assertThat(samples(recording)).isEqualTo(expected(0, 40, -1, -1));
        assertThat(recording.packetsLost()).isZero();
        assertThat(recording.length()).isEqualTo(Duration.ofMillis(800));
    }

    @Test
    void lostPacketsAreRecordedAsSilenceOfTheirLength() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        for (int seq = 0; seq < 50; seq++) {
            if (seq < 10 || seq >= 15) {
                far.audio(PCMU, seq, valueOf(seq));
            }
        }
        awaitReceived(call, 45);

        Recording recording = call.finish();

        assertThat(samples(recording)).isEqualTo(expected(0, 50, 10, 15));
        assertThat(recording.packetsLost()).isEqualTo(5);
        assertThat(recording.length()).isEqualTo(Duration.ofMillis(1000));
    }

    @Test
    void sequenceNumbersWrapAroundAndDuplicatesAreDropped() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        int[] order = {65530, 65531, 65532, 65533, 65534, 0, 65535, 1, 2, 2, 3, 65531, 4, 5};
        for (int seq : order) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        await().atMost(5, TimeUnit.SECONDS).until(() -> call.statistics().received() + call.statistics().duplicates() == order.length);

        Recording recording = call.finish();

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int seq : new int[] {65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4, 5}) {
            expected.write(packet(valueOf(seq)));
        }
        assertThat(samples(recording)).isEqualTo(expected.toByteArray());
        assertThat(recording.packetsLost()).isZero();
        assertThat(call.statistics().duplicates()).isEqualTo(2);
    }

    @Test
    void hashEndsTheRecordingOnceAndOtherDigitsDoNot() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        for (int seq = 0; seq < 5; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        far.event(EVENTS, 5, 1, true, 800); // '1'
        for (int seq = 6; seq < 10; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        far.event(EVENTS, 10, 11, false, 160); // '#' pressed
        for (int seq = 11; seq < 14; seq++) {
            far.event(EVENTS, seq, 11, true, 800); // its end, sent three times (RFC 4733 2.5.1.4)
        }
        for (int seq = 14; seq < 20; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }

        assertThat(call.ended().get(5, TimeUnit.SECONDS)).isEqualTo(EndReason.HASH);
        awaitReceived(call, 20);
        Recording recording = call.finish();

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(expected(0, 5, -1, -1));
        expected.write(expected(6, 10, -1, -1));
        assertThat(samples(recording)).isEqualTo(expected.toByteArray());
        assertThat(call.ended().join()).isEqualTo(EndReason.HASH);
    }

    @Test
    void silenceEndsTheRecording() throws Exception {
        Duration silence = Duration.ofMillis(400);
        MediaSession call = call(LONG, silence);
        FarEnd far = farEnd(call);
        for (int seq = 0; seq < 5; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        long lastSound = System.nanoTime();
        int seq = 5;
        while (!call.ended().isDone() && System.nanoTime() - lastSound < TimeUnit.SECONDS.toNanos(10)) {
            far.audio(PCMU, seq++, 0xff); // the caller says nothing more: mu-law zero
            Thread.sleep(20);
        }

        assertThat(call.ended().getNow(null)).isEqualTo(EndReason.SILENCE);
        assertThat(System.nanoTime() - lastSound).isGreaterThanOrEqualTo(silence.toNanos());
        assertThat(call.finish().length()).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void noMediaAtAllEndsTheRecordingAsSilence() throws Exception {
        MediaSession call = call(LONG, Duration.ofMillis(300));
        farEnd(call);

        assertThat(call.ended().get(10, TimeUnit.SECONDS)).isEqualTo(EndReason.SILENCE);
        assertThat(call.finish().length()).isZero();
    }

    @Test
    void theMaximumLengthEndsTheRecordingAtThatLength() throws Exception {
        MediaSession call = call(Duration.ofMillis(200), LONG);
        FarEnd far = farEnd(call);
        for (int seq = 0; seq < 20; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }

        assertThat(call.ended().get(5, TimeUnit.SECONDS)).isEqualTo(EndReason.MAX_LENGTH);
        Recording recording = call.finish();

        assertThat(recording.length()).isEqualTo(Duration.ofMillis(200));
        assertThat(samples(recording)).isEqualTo(expected(0, 10, -1, -1));
    }

    @Test
    void rtpFromAnotherAddressIsCountedAndIgnored() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        try (FarEnd stranger = new FarEnd(call.localPort(), 0x1234abcd)) {
            for (int seq = 0; seq < 10; seq++) {
                stranger.audio(PCMU, seq, 0x00); // loudest mu-law, same SSRC and sequence numbers
                far.audio(PCMU, seq, valueOf(seq));
            }
            await().atMost(5, TimeUnit.SECONDS).until(() -> call.statistics().wrongSource() == 10 && call.statistics().received() == 10);
        }

        Recording recording = call.finish();

        assertThat(samples(recording)).isEqualTo(expected(0, 10, -1, -1));
        assertThat(recording.packetsFromWrongSource()).isEqualTo(10);
    }

    @Test
    void thePromptArrivesPacedAtTwentyMillisecondsWithCorrectHeaders() throws Exception {
        pool = pool(LONG, LONG, 8);
        MediaSession call = open();
        FarEnd far = farEnd(call);
        byte[] prompt = sine(1590); // ten packets, the last padded with silence
        long started = System.nanoTime();
        call.start(far.address(), PCMU, EVENTS, prompt);

        List<byte[]> packets = new ArrayList<>();
        List<Long> arrivals = new ArrayList<>();
        while (packets.size() < 12) {
            byte[] p = far.receive(5000);
            assertThat(p).as("RTP from vmesh").isNotNull();
            packets.add(p);
            arrivals.add(System.nanoTime());
        }

        byte[] encoded = jdkEncode(prompt, AudioFormat.Encoding.ULAW);
        ByteBuffer first = ByteBuffer.wrap(packets.get(0));
        int seq0 = first.getShort(2) & 0xffff;
        int ts0 = first.getInt(4);
        int ssrc = first.getInt(8);
        for (int i = 0; i < packets.size(); i++) {
            ByteBuffer p = ByteBuffer.wrap(packets.get(i));
            assertThat(p.limit()).isEqualTo(12 + 160);
            assertThat(p.get(0) & 0xff).as("version 2, no padding, extension or CSRC").isEqualTo(0x80);
            assertThat(p.get(1) & 0x80).as("marker on the first packet only").isEqualTo(i == 0 ? 0x80 : 0);
            assertThat(p.get(1) & 0x7f).isEqualTo(PCMU);
            assertThat(p.getShort(2) & 0xffff).isEqualTo((seq0 + i) & 0xffff);
            assertThat(p.getInt(4)).isEqualTo(ts0 + 160 * i);
            assertThat(p.getInt(8)).isEqualTo(ssrc);
            byte[] payload = java.util.Arrays.copyOfRange(packets.get(i), 12, 172);
            if (i < 9) {
                assertThat(payload).isEqualTo(java.util.Arrays.copyOfRange(encoded, 160 * i, 160 * i + 160));
            } else if (i >= 10) {
                assertThat(payload).as("silence after the prompt keeps the media alive").containsOnly((byte) 0xff);
            }
        }
        for (int k = 0; k < arrivals.size(); k++) {
            assertThat(arrivals.get(k) - started).as("packet %d leaves %d x 20 ms after the start, not earlier", k, k)
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20L * k - 1));
        }
    }

    @Test
    void aLawCallsAreRecordedInTheStoredFormat() throws Exception {
        MediaSession call = call(LONG, LONG, PCMA);
        FarEnd far = farEnd(call);
        byte[] pcm = sine(1600);
        byte[] alaw = jdkEncode(pcm, AudioFormat.Encoding.ALAW);
        for (int seq = 0; seq < 10; seq++) {
            far.send(PCMA, seq, java.util.Arrays.copyOfRange(alaw, 160 * seq, 160 * seq + 160));
        }
        awaitReceived(call, 10);

        Recording recording = call.finish();

        var stored = new AudioCodec(60).encodeForStorage(recording.wav());
        assertThat(stored.sourceEncoding()).isEqualTo("ULAW");
        assertThat(stored.durationMs()).isEqualTo(200);
        assertThat(samples(recording)).as("A-law decoded and encoded to mu-law by the JDK")
                .isEqualTo(jdkEncode(jdkDecode(alaw, AudioFormat.Encoding.ALAW), AudioFormat.Encoding.ULAW));
    }

    @Test
    void aCallCutOffMidWayIsRecoveredFromItsPartialFile() throws Exception {
        MediaSession call = call(LONG, LONG);
        FarEnd far = farEnd(call);
        for (int seq = 0; seq < 60; seq++) {
            far.audio(PCMU, seq, valueOf(seq));
        }
        Path partial = call.partialFile();
        await().atMost(5, TimeUnit.SECONDS).until(() -> Files.size(partial) >= 8000 + 46);

        Path atTheCrash = Files.copy(partial, dir.resolve("as-a-killed-server-left-it.wav")); // what kill -9 leaves
        Recording survived = PartialRecordings.recover(atTheCrash);
        assertThat(survived.length()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        byte[] survivedSamples = samples(survived);
        assertThat(survivedSamples).isEqualTo(java.util.Arrays.copyOf(expected(0, 60, -1, -1), survivedSamples.length));

        awaitReceived(call, 60);
        pool.close(); // the server stops with the call in progress, never finished
        pool = null;
        Recording recovered = PartialRecordings.recover(partial);
        assertThat(samples(recovered)).isEqualTo(expected(0, 60, -1, -1));
        assertThat(new AudioCodec(60).encodeForStorage(recovered.wav()).durationMs()).isEqualTo(1200);
    }

    @Test
    void abandonedCallsLeaveNoFileAndFreeTheirPort() throws Exception {
        MediaSession call = call(LONG, LONG);
        Path partial = call.partialFile();
        call.close();

        assertThat(partial).doesNotExist();
        assertThat(pool.active()).isZero();
    }

    @Test
    void aFullPortRangeRefusesTheNextCallUntilOneEnds() throws Exception {
        pool = pool(LONG, LONG, 4);
        assertThat(pool.capacity()).isEqualTo(2);
        MediaSession a = open();
        MediaSession b = open();
        assertThat(a.localPort() % 2).isZero();
        assertThat(b.localPort()).isNotEqualTo(a.localPort());

        assertThatThrownBy(this::open).isInstanceOf(NoMediaPortAvailable.class).hasMessageContaining("in use");
        assertThat(pool.active()).isEqualTo(2);

        a.close();
        MediaSession c = open();
        assertThat(c.localPort()).isEqualTo(a.localPort());
        assertThat(pool.active()).isEqualTo(2);
    }

    // ---- helpers ----

    private MediaSession call(Duration maxLength, Duration silence) throws Exception {
        return call(maxLength, silence, PCMU);
    }

    /** A started call with no prompt, so that it records at once. */
    private MediaSession call(Duration maxLength, Duration silence, int payloadType) throws Exception {
        pool = pool(maxLength, silence, 8);
        MediaSession call = open();
        FarEnd far = farEnd(call);
        call.start(far.address(), payloadType, EVENTS, new byte[0]);
        return call;
    }

    /** The call's far end: the one it was started with, or a new one. */
    private FarEnd farEnd(MediaSession call) throws Exception {
        FarEnd far = farEnds.get(call);
        if (far == null) {
            far = new FarEnd(call);
            farEnds.put(call, far);
            closing.add(far);
        }
        return far;
    }

    private int opened;

    private MediaSession open() throws Exception {
        MediaSession session = pool.open(dir.resolve("call-" + opened++ + ".partial.wav"));
        closing.add(0, session);
        return session;
    }

    /** A pool over a range of ports nobody holds right now. */
    static MediaSessions pool(Duration maxLength, Duration silence, int ports) throws Exception {
        for (int attempt = 0; ; attempt++) {
            int first = ThreadLocalRandom.current().nextInt(8000, 16000) * 2; // below the ephemeral ports the far ends get;
            List<DatagramSocket> probes = new ArrayList<>();
            try {
                for (int p = first; p < first + ports; p++) {
                    probes.add(new DatagramSocket(new InetSocketAddress(FarEnd.LOOPBACK, p)));
                }
            } catch (java.net.SocketException taken) {
                if (attempt > 50) {
                    throw taken;
                }
                continue;
            } finally {
                probes.forEach(DatagramSocket::close);
            }
            return new MediaSessions(new MediaSettings(FarEnd.LOOPBACK, first, first + ports - 1, maxLength, silence));
        }
    }

    private static void awaitReceived(MediaSession call, long packets) {
        await().atMost(5, TimeUnit.SECONDS).until(() -> call.statistics().received() >= packets);
    }

    /** A loud mu-law code word particular to each packet. */
    static int valueOf(int seq) {
        return 0x10 + Math.floorMod(seq, 48);
    }

    static byte[] packet(int value) {
        byte[] b = new byte[160];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** Packets {@code from} to {@code to} as recorded, those in [lostFrom, lostTo) as silence. */
    static byte[] expected(int from, int to, int lostFrom, int lostTo) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int seq = from; seq < to; seq++) {
            out.writeBytes(packet(seq >= lostFrom && seq < lostTo ? 0xff : valueOf(seq)));
        }
        return out.toByteArray();
    }

    static byte[] samples(Recording recording) throws Exception {
        try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(recording.wav()))) {
            assertThat(in.getFormat().getEncoding()).isEqualTo(AudioFormat.Encoding.ULAW);
            return in.readAllBytes();
        }
    }

    /** 16-bit little-endian PCM of a 440 Hz tone, {@code n} samples. */
    static byte[] sine(int n) {
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort((short) (8000 * Math.sin(2 * Math.PI * 440 * i / 8000.0)));
        }
        return b.array();
    }

    static byte[] jdkDecode(byte[] codeWords, AudioFormat.Encoding law) throws Exception {
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(codeWords), new AudioFormat(law, 8000f, 8, 1, 1, 8000f, false), codeWords.length);
             AudioInputStream out = AudioSystem.getAudioInputStream(new AudioFormat(8000f, 16, 1, true, false), in)) {
            return out.readAllBytes();
        }
    }

    static byte[] jdkEncode(byte[] pcm16, AudioFormat.Encoding law) throws Exception {
        AudioFormat pcm = new AudioFormat(8000f, 16, 1, true, false);
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(pcm16), pcm, pcm16.length / 2);
             AudioInputStream out = AudioSystem.getAudioInputStream(new AudioFormat(law, 8000f, 8, 1, 1, 8000f, false), in)) {
            return out.readAllBytes();
        }
    }
}
