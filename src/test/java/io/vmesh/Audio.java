package io.vmesh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

/** Test audio: the shipped speech samples, synthetic signals, and a signal-to-noise measure. */
public final class Audio {

    private Audio() {
    }

    public static byte[] resource(String name) {
        try (InputStream in = Audio.class.getResourceAsStream("/audio/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test audio " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The samples of any WAV the JDK reads, as 16-bit PCM. */
    static short[] pcmSamples(byte[] wav) {
        try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(wav))) {
            AudioFormat pcm = new AudioFormat(AudioFormat.Encoding.PCM_SIGNED, in.getFormat().getSampleRate(), 16,
                    in.getFormat().getChannels(), 2 * in.getFormat().getChannels(), in.getFormat().getSampleRate(), false);
            byte[] bytes = AudioSystem.getAudioInputStream(pcm, in).readAllBytes();
            short[] samples = new short[bytes.length / 2];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(samples);
            return samples;
        } catch (Exception e) {
            throw new IllegalStateException("not a readable WAV", e);
        }
    }

    public static AudioFormat format(AudioFormat.Encoding encoding, float rate, int bits, int channels) {
        int frame = bits / 8 * channels;
        return new AudioFormat(encoding, rate, bits, channels, frame, rate, false);
    }

    /** A WAV of the given format holding {@code seconds} of a speech-like signal (a gliding, pulsed tone). */
    public static byte[] wav(AudioFormat format, double seconds) {
        int frames = (int) (seconds * format.getSampleRate());
        AudioFormat pcm = format(AudioFormat.Encoding.PCM_SIGNED, format.getSampleRate(), 16, format.getChannels());
        ByteBuffer buf = ByteBuffer.allocate(frames * pcm.getFrameSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            double t = i / format.getSampleRate();
            double envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t); // syllable-like bursts
            double f = 200 + 150 * Math.sin(2 * Math.PI * 0.5 * t);
            short s = (short) (9000 * envelope * (Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(2 * Math.PI * 3 * f * t)));
            for (int c = 0; c < format.getChannels(); c++) {
                buf.putShort(s);
            }
        }
        try {
            AudioInputStream source = new AudioInputStream(new ByteArrayInputStream(buf.array()), pcm, frames);
            AudioInputStream converted = format.getEncoding().equals(AudioFormat.Encoding.PCM_SIGNED)
                    ? source : AudioSystem.getAudioInputStream(format, source);
            byte[] data = converted.readAllBytes();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(data), format, data.length / format.getFrameSize()),
                    AudioFileFormat.Type.WAVE, out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * SNR over the reference's length, for a codec whose last block pads the decoded audio with at
     * most {@code maxPadding} samples of silence (GSM 6.10: 160 per frame; ADPCM: a block).
     */
    static double snrDbPadded(short[] reference, short[] decoded, int maxPadding) {
        if (decoded.length < reference.length || decoded.length > reference.length + maxPadding) {
            throw new AssertionError("decoded " + decoded.length + " samples for the reference's " + reference.length);
        }
        return snrDb(reference, java.util.Arrays.copyOf(decoded, reference.length));
    }

    /** The average of a stereo recording's two channels (interleaved samples), as a mono mix-down should be. */
    static short[] mixedDown(short[] stereo) {
        short[] mono = new short[stereo.length / 2];
        for (int i = 0; i < mono.length; i++) {
            mono[i] = (short) Math.round((stereo[2 * i] + stereo[2 * i + 1]) / 2.0);
        }
        return mono;
    }

    /** Signal-to-noise ratio of {@code decoded} against {@code reference}, in dB. */
    static double snrDb(short[] reference, short[] decoded) {
        if (reference.length != decoded.length) {
            throw new AssertionError("lengths differ: " + reference.length + " vs " + decoded.length + " samples");
        }
        double signal = 0;
        double noise = 0;
        for (int i = 0; i < reference.length; i++) {
            signal += (double) reference[i] * reference[i];
            double d = reference[i] - decoded[i];
            noise += d * d;
        }
        return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
    }
}
