package io.vmesh.tools;

import io.vmesh.audio.AudioCodec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

/**
 * Speech-like audio for the switch simulator: what a caller leaving a message sounds like to a
 * codec, without a recording. Phrases of syllables with pauses between them; each syllable a
 * voiced sound (a glottal pulse train at a falling pitch, shaped by three vowel formants that glide
 * from one vowel to another), often after a short noise burst like a consonant. The same seed
 * gives the same samples, bit for bit (java.util.Random and StrictMath are specified exactly).
 * Written as PCM 16-bit 8 kHz mono WAV ({@link AudioCodec#PLAYBACK}), one of the formats a switch sends.
 */
public final class SpeechSynthesizer {

    private static final double RATE = AudioCodec.SAMPLE_RATE;
    /** F1, F2, F3 of English vowels (Hz), after Peterson and Barney's adult voices. */
    private static final double[][] VOWELS = {
            {730, 1090, 2440}, // father
            {530, 1840, 2480}, // bed
            {270, 2290, 3010}, // beet
            {570, 840, 2410},  // bought
            {300, 870, 2240},  // boot
            {660, 1720, 2410}, // bat
            {520, 1190, 2390}, // but
            {390, 1990, 2550}, // bit
    };
    private static final double[] BANDWIDTHS = {70, 100, 160};
    /** Peak level of the result: about -3 dBFS, as loud as a recording made with some headroom. */
    private static final double PEAK = 0.7 * Short.MAX_VALUE;

    private final long seed;

    public SpeechSynthesizer(long seed) {
        this.seed = seed;
    }

    /** {@code seconds} of speech-like audio as a PCM 16-bit 8 kHz mono WAV file. */
    public byte[] wav(double seconds) {
        short[] samples = samples(seconds);
        ByteBuffer pcm = ByteBuffer.allocate(samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        pcm.asShortBuffer().put(samples);
        ByteArrayOutputStream out = new ByteArrayOutputStream(samples.length * 2 + 44);
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(pcm.array()), AudioCodec.PLAYBACK,
                samples.length)) {
            AudioSystem.write(in, AudioFileFormat.Type.WAVE, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a WAV to memory", e);
        }
        return out.toByteArray();
    }

    /** {@code seconds} of speech-like audio as 16-bit samples at 8 kHz: exactly {@code round(seconds * 8000)} of them. */
    public short[] samples(double seconds) {
        if (!(seconds > 0) || seconds > 3600) {
            throw new IllegalArgumentException("a recording lasts more than 0 and at most 3600 seconds, not " + seconds);
        }
        double[] signal = new double[(int) Math.round(seconds * RATE)];
        Random random = new Random(seed);
        double voice = 95 + 110 * random.nextDouble(); // the speaker's pitch: 95 Hz (low) to 205 Hz (high)
        int at = samplesOf(150 + random.nextInt(150)); // silence before the first word
        while (at < signal.length) {
            int syllables = 3 + random.nextInt(7);
            double phrasePitch = voice * (1.05 + 0.15 * random.nextDouble());
            for (int s = 0; s < syllables && at < signal.length; s++) {
                double declination = 1 - 0.25 * s / syllables; // pitch falls through a phrase
                double startPitch = phrasePitch * declination * (0.95 + 0.1 * random.nextDouble());
                double endPitch = startPitch * (s == syllables - 1 ? 0.8 : 0.92 + 0.12 * random.nextDouble());
                int length = samplesOf(110 + random.nextInt(240));
                int consonant = random.nextDouble() < 0.6 ? samplesOf(25 + random.nextInt(50)) : 0;
                syllable(signal, at, length, consonant, startPitch, endPitch,
                        VOWELS[random.nextInt(VOWELS.length)], VOWELS[random.nextInt(VOWELS.length)],
                        0.55 + 0.45 * random.nextDouble(), random);
                at += consonant + length + samplesOf(20 + random.nextInt(70));
            }
            at += samplesOf(250 + random.nextInt(450)); // a pause between phrases
        }
        return toShorts(signal);
    }

    /** A consonant-like noise burst of {@code consonant} samples, then a voiced vowel of {@code length}. */
    private static void syllable(double[] out, int start, int length, int consonant, double startPitch, double endPitch,
                                 double[] fromVowel, double[] toVowel, double loudness, Random random) {
        double[] voiced = new double[length];
        Resonator glottis = new Resonator(); // shapes the pulses like the glottal flow (-12 dB per octave)
        Resonator[] formants = {new Resonator(), new Resonator(), new Resonator()};
        double phase = 1; // a pulse at the first sample
        double previous = 0;
        for (int i = 0; i < length; i++) {
            double progress = (double) i / length;
            double pitch = startPitch + (endPitch - startPitch) * progress;
            phase += pitch / RATE;
            double pulse = 0;
            if (phase >= 1) {
                phase -= 1;
                pulse = 1;
            }
            double x = glottis.next(pulse, 0, 100);
            double glide = smoothStep(Math.min(1, progress / 0.7)); // one vowel into the next
            for (int f = 0; f < formants.length; f++) {
                double frequency = fromVowel[f] + (toVowel[f] - fromVowel[f]) * glide;
                x = formants[f].next(x, frequency, BANDWIDTHS[f]);
            }
            voiced[i] = x - previous; // radiation at the lips: +6 dB per octave
            previous = x;
        }
        double rms = rms(voiced);
        double gain = rms == 0 ? 0 : loudness / rms;
        for (int i = 0; i < length && start + consonant + i < out.length; i++) {
            out[start + consonant + i] += gain * voiced[i] * envelope(i, length, samplesOf(25), samplesOf(60));
        }
        Resonator hiss = new Resonator();
        double centre = 1800 + 1600 * random.nextDouble(); // "s"-like high, "h"-like low
        double[] noise = new double[consonant];
        for (int i = 0; i < consonant; i++) {
            noise[i] = hiss.next(random.nextDouble() * 2 - 1, centre, 900);
        }
        double noiseRms = rms(noise);
        for (int i = 0; i < consonant && start + i < out.length; i++) {
            out[start + i] += (noiseRms == 0 ? 0 : 0.3 * loudness / noiseRms) * noise[i]
                    * envelope(i, consonant, samplesOf(5), consonant / 2);
        }
    }

    /** A two-pole resonance (Klatt's digital resonator), its frequency and bandwidth free to change every sample. */
    private static final class Resonator {
        private double y1;
        private double y2;

        double next(double x, double frequency, double bandwidth) {
            double c = -StrictMath.exp(-2 * Math.PI * bandwidth / RATE);
            double b = 2 * StrictMath.exp(-Math.PI * bandwidth / RATE) * StrictMath.cos(2 * Math.PI * frequency / RATE);
            double a = 1 - b - c;
            double y = a * x + b * y1 + c * y2;
            y2 = y1;
            y1 = y;
            return y;
        }
    }

    /** Raised-cosine attack and release, so no syllable starts or ends with a click. */
    private static double envelope(int i, int length, int attack, int release) {
        if (i < attack) {
            return 0.5 - 0.5 * StrictMath.cos(Math.PI * i / attack);
        }
        int left = length - i;
        return left < release ? 0.5 - 0.5 * StrictMath.cos(Math.PI * left / release) : 1;
    }

    private static double smoothStep(double x) {
        return x * x * (3 - 2 * x);
    }

    private static double rms(double[] x) {
        double sum = 0;
        for (double v : x) {
            sum += v * v;
        }
        return x.length == 0 ? 0 : StrictMath.sqrt(sum / x.length);
    }

    private static int samplesOf(int ms) {
        return (int) (ms * RATE / 1000);
    }

    private static short[] toShorts(double[] signal) {
        double peak = 0;
        for (double v : signal) {
            peak = Math.max(peak, Math.abs(v));
        }
        short[] samples = new short[signal.length];
        double gain = peak == 0 ? 0 : PEAK / peak;
        for (int i = 0; i < signal.length; i++) {
            samples[i] = (short) Math.round(signal[i] * gain);
        }
        return samples;
    }
}
