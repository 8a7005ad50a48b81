package io.vmesh.audio;

import io.vmesh.RejectedRequest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioFormat.Encoding;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.UnsupportedAudioFileException;
import javax.sound.sampled.spi.AudioFileReader;
import javax.sound.sampled.spi.AudioFileWriter;
import javax.sound.sampled.spi.FormatConversionProvider;

/**
 * FIG. 4's audio encoding/decoding module (325), on the JDK's javax.sound.sampled: a switch's WAV
 * (PCM 16-bit, mu-law or A-law, 8 kHz mono) in, G.711 mu-law WAV for storage; PCM 16-bit WAV out
 * for playback.
 */
public final class AudioCodec {

    public static final float SAMPLE_RATE = 8000f;
    public static final AudioFormat STORED = new AudioFormat(Encoding.ULAW, SAMPLE_RATE, 8, 1, 1, SAMPLE_RATE, false);
    public static final AudioFormat PLAYBACK = new AudioFormat(Encoding.PCM_SIGNED, SAMPLE_RATE, 16, 1, 2, SAMPLE_RATE, false);

    /** What the recording step stores: the mu-law WAV and what it learnt while encoding it. */
    public record EncodedAudio(byte[] wav, long durationMs, String sourceEncoding) {
    }

    private final int maxSeconds;

    public AudioCodec(int maxSeconds) {
        this.maxSeconds = maxSeconds;
    }

    /** Accepts a switch's recording and encodes it to G.711 mu-law; 413 or 415 with the reason otherwise. */
    public EncodedAudio encodeForStorage(byte[] wav) {
        if (wav == null || wav.length == 0) {
            throw new RejectedRequest(400, "a voicemail call needs its recording as the body (audio/wav)");
        }
        try (AudioInputStream source = open(wav)) {
            AudioFormat format = source.getFormat();
            String encoding = acceptedEncoding(format);
            byte[] samples;
            if (Encoding.ULAW.equals(format.getEncoding())) {
                samples = source.readAllBytes(); // already G.711 mu-law: stored bit for bit
            } else {
                AudioInputStream pcm = Encoding.ALAW.equals(format.getEncoding())
                        ? Sound.convert(PLAYBACK, source) : source;
                samples = Sound.convert(STORED, pcm).readAllBytes();
            }
            if (samples.length == 0) {
                throw new RejectedRequest(400, "the recording holds no audio");
            }
            long durationMs = samples.length * 1000L / (long) SAMPLE_RATE; // one byte per mu-law sample
            if (durationMs > maxSeconds * 1000L) {
                throw new RejectedRequest(413, "the recording lasts " + durationMs / 1000 + " s; at most " + maxSeconds + " s are accepted");
            }
            return new EncodedAudio(toWav(samples, STORED), durationMs, encoding);
        } catch (IOException e) {
            throw new RejectedRequest(415, "the recording is not a readable WAV: " + e.getMessage());
        } catch (RejectedRequest e) {
            throw e;
        } catch (RuntimeException e) { // a header the JDK's reader chokes on is the sender's fault, not ours
            throw new RejectedRequest(415, "the recording's WAV header is damaged: " + e.getClass().getSimpleName());
        }
    }

    /**
     * Checks that a peer's body is a stored message: a G.711 mu-law 8 kHz mono WAV. Reads the header
     * only; the SHA-256 the receiver also checks proves the samples are the sender's.
     */
    public void requireStoredFormat(byte[] wav) {
        try {
            AudioFileFormat file = Sound.fileFormat(new ByteArrayInputStream(wav == null ? new byte[0] : wav));
            AudioFormat f = file.getFormat();
            if (file.getType() == AudioFileFormat.Type.WAVE && Encoding.ULAW.equals(f.getEncoding())
                    && f.getSampleRate() == SAMPLE_RATE && f.getChannels() == 1 && f.getSampleSizeInBits() == 8) {
                return;
            }
        } catch (IOException | UnsupportedAudioFileException | RuntimeException e) {
            // refused below
        }
        throw new RejectedRequest(415, "migrated audio must be the stored G.711 mu-law WAV");
    }

    /** A stored message as PCM 16-bit 8 kHz mono WAV, ready to play. */
    public byte[] decodeForPlayback(Path storedWav) throws IOException {
        try (InputStream in = Files.newInputStream(storedWav);
             AudioInputStream stored = Sound.open(new java.io.BufferedInputStream(in));
             AudioInputStream pcm = Sound.convert(PLAYBACK, stored)) {
            return toWav(pcm.readAllBytes(), PLAYBACK);
        } catch (UnsupportedAudioFileException e) {
            throw new IOException("stored message " + storedWav.getFileName() + " is not a WAV", e);
        }
    }

    private static AudioInputStream open(byte[] wav) throws IOException {
        try {
            AudioFileFormat fileFormat = Sound.fileFormat(new ByteArrayInputStream(wav));
            if (fileFormat.getType() != AudioFileFormat.Type.WAVE) {
                throw new RejectedRequest(415, "the recording is " + fileFormat.getType() + ", not WAV");
            }
            return Sound.open(new ByteArrayInputStream(wav));
        } catch (UnsupportedAudioFileException e) {
            throw new RejectedRequest(415, "the recording is not a WAV file (RIFF/WAVE) the server can read");
        }
    }

    private static String acceptedEncoding(AudioFormat f) {
        boolean eightKhzMono = f.getSampleRate() == SAMPLE_RATE && f.getChannels() == 1;
        Encoding e = f.getEncoding();
        if (eightKhzMono && Encoding.PCM_SIGNED.equals(e) && f.getSampleSizeInBits() == 16 && !f.isBigEndian()) {
            return "PCM_16";
        }
        if (eightKhzMono && (Encoding.ULAW.equals(e) || Encoding.ALAW.equals(e)) && f.getSampleSizeInBits() == 8) {
            return e.equals(Encoding.ULAW) ? "ULAW" : "ALAW";
        }
        throw new RejectedRequest(415, "the recording is " + f + "; accepted are PCM 16-bit, mu-law or A-law, 8000 Hz mono");
    }

    private static byte[] toWav(byte[] samples, AudioFormat format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(samples.length + 64);
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(samples), format,
                samples.length / format.getFrameSize())) {
            Sound.writeWave(in, out);
        }
        return out.toByteArray();
    }

    /**
     * What {@code javax.sound.sampled.AudioSystem} does for the calls above, in the same order, with the
     * JDK's providers found once. AudioSystem looks them up through ServiceLoader on every call, which
     * scans every jar on the class path: about a tenth of a busy server's CPU (docs/performance.md).
     */
    private static final class Sound {

        /**
         * The WAV readers first: vmesh takes only WAV, and the JDK lists its MIDI reader before them,
         * which looks up MIDI providers for every file it is shown (8% of a receiving server's CPU).
         * The others stay, so that an AIFF or AU recording is still named as such when refused.
         */
        private static final List<AudioFileReader> READERS = providers(AudioFileReader.class).stream()
                .sorted(java.util.Comparator.comparing((AudioFileReader r) -> !r.getClass().getSimpleName().startsWith("Wave")))
                .toList();
        private static final List<AudioFileWriter> WRITERS = providers(AudioFileWriter.class);
        private static final List<FormatConversionProvider> CONVERTERS = providers(FormatConversionProvider.class);

        private static <T> List<T> providers(Class<T> type) {
            List<T> found = new java.util.ArrayList<>();
            java.util.ServiceLoader.load(type, ClassLoader.getSystemClassLoader()).forEach(found::add);
            return List.copyOf(found);
        }

        static AudioFileFormat fileFormat(InputStream in) throws UnsupportedAudioFileException, IOException {
            return firstReader(reader -> reader.getAudioFileFormat(in));
        }

        static AudioInputStream open(InputStream in) throws UnsupportedAudioFileException, IOException {
            return firstReader(reader -> reader.getAudioInputStream(in));
        }

        private interface ReaderCall<T> {
            T apply(AudioFileReader reader) throws UnsupportedAudioFileException, IOException;
        }

        /** The first reader's answer that recognises the stream, as AudioSystem asks them. */
        private static <T> T firstReader(ReaderCall<T> call) throws UnsupportedAudioFileException, IOException {
            for (AudioFileReader reader : READERS) {
                try {
                    return call.apply(reader);
                } catch (UnsupportedAudioFileException notThisOne) {
                    // the next reader
                }
            }
            throw new UnsupportedAudioFileException("Stream of unsupported format");
        }

        static AudioInputStream convert(AudioFormat target, AudioInputStream source) {
            if (source.getFormat().matches(target)) {
                return source;
            }
            for (FormatConversionProvider converter : CONVERTERS) {
                if (converter.isConversionSupported(target, source.getFormat())) {
                    return converter.getAudioInputStream(target, source);
                }
            }
            throw new IllegalArgumentException("Unsupported conversion: " + target + " from " + source.getFormat());
        }

        static void writeWave(AudioInputStream in, java.io.OutputStream out) throws IOException {
            for (AudioFileWriter writer : WRITERS) {
                try {
                    writer.write(in, AudioFileFormat.Type.WAVE, out);
                    return;
                } catch (IllegalArgumentException notThisOne) {
                    // the next writer
                }
            }
            throw new IllegalArgumentException("could not write audio file: file type not supported: WAVE");
        }
    }
}
