package io.vmesh;

import io.vmesh.audio.AudioCodec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random damage to real recordings: whatever a switch sends, the WAV reader either accepts
 * it or refuses it with a {@link RejectedRequest} (a 4xx), never another exception (a 5xx), and
 * never more audio than the limit allows. Bounded in count and time; the seed makes a failure
 * reproducible.
 */
class WavFuzzTest {

    private static final long SEED = Long.getLong("vmesh.fuzz.seed", 20261125L);
    private static final int CASES = Integer.getInteger("vmesh.fuzz.cases", 3000);
    private final AudioCodec codec = new AudioCodec(300);

    private static byte[] mutate(byte[] wav, Random random) {
        byte[] out;
        switch (random.nextInt(6)) {
            case 0 -> { // truncate anywhere, the header included
                out = java.util.Arrays.copyOf(wav, random.nextInt(Math.min(wav.length, 200)));
            }
            case 1 -> { // flip bytes in the header
                out = wav.clone();
                for (int i = 0, n = 1 + random.nextInt(6); i < n; i++) {
                    out[random.nextInt(Math.min(64, out.length))] = (byte) random.nextInt(256);
                }
            }
            case 2 -> { // a hostile declared length: RIFF size, fmt size or data size
                out = wav.clone();
                int[] fields = {4, 16, 40};
                int at = fields[random.nextInt(fields.length)];
                ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(at,
                        random.nextBoolean() ? Integer.MAX_VALUE - random.nextInt(16) : -1 - random.nextInt(1000));
            }
            case 3 -> { // a hostile format: channels, rate, block align, bits
                out = wav.clone();
                ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
                int[] shorts = {20, 22, 32, 34};
                b.putShort(shorts[random.nextInt(shorts.length)], (short) random.nextInt(65536));
                if (random.nextBoolean()) {
                    b.putInt(24, random.nextInt());
                }
            }
            case 4 -> { // random bytes behind a valid RIFF/WAVE magic
                out = new byte[random.nextInt(2000)];
                random.nextBytes(out);
                if (out.length >= 12) {
                    System.arraycopy("RIFF".getBytes(), 0, out, 0, 4);
                    System.arraycopy("WAVE".getBytes(), 0, out, 8, 4);
                }
            }
            default -> { // pure noise
                out = new byte[random.nextInt(4000)];
                random.nextBytes(out);
            }
        }
        return out;
    }

    @TempDir
    static Path dir;

    @Test
    void damagedRecordingsAreAcceptedOrRefusedWithAReasonNeverFailed() {
        byte[][] samples = {Audio.resource("speech-03.wav"), Audio.resource("speech-01-ulaw.wav"),
                Audio.resource("speech-02-alaw.wav")};
        fuzz(samples, CASES, 60);
    }

    /** The same for what SoX decodes; fewer cases, as each one runs it. */
    @Test
    void damagedGsmAndAdpcmRecordingsAreAcceptedOrRefusedWithAReasonNeverFailed() {
        PhoneRecordings recordings = new PhoneRecordings(dir);
        byte[][] samples = {recordings.gsm(), recordings.imaAdpcm(), recordings.msAdpcm()};
        fuzz(samples, Integer.getInteger("vmesh.fuzz.sox-cases", 150), 60);
    }

    private void fuzz(byte[][] samples, int cases, int seconds) {
        Random random = new Random(SEED);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < cases && System.nanoTime() < deadline; i++) {
            byte[] input = mutate(samples[random.nextInt(samples.length)], random);
            try {
                AudioCodec.EncodedAudio stored = codec.encodeForStorage(input);
                assertThat(stored.durationMs()).isLessThanOrEqualTo(300_000);
                accepted++;
            } catch (RejectedRequest expected) {
                assertThat(expected.getStatus()).isBetween(400, 499);
                assertThat(expected.getMessage()).isNotBlank();
                refused++;
            } catch (Throwable unexpected) {
                fail("case " + i + " of seed " + SEED + " (" + input.length + " bytes) escaped as " + unexpected, unexpected);
            }
        }
        assertThat(accepted + refused).isGreaterThan(Math.min(100, cases / 2));
        assertThat(refused).isPositive();
    }
}
