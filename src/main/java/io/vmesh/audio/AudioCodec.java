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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FIG. 4's audio encoding/decoding module (325): whatever WAV a phone system records in, G.711
 * mu-law WAV for storage (8 kHz, or 16 kHz for a wideband recording); PCM 16-bit WAV out for
 * playback (8 kHz unless 16 kHz is asked for).
 *
 * <p>The JDK's javax.sound.sampled reads the PCM, float, mu-law and A-law WAVs, converts bit depth,
 * mixes channels down (their average) and encodes mu-law. {@link Sox} decodes GSM 6.10 and ADPCM and
 * resamples, which the JDK's providers do without a proper low-pass filter (docs/audio.md).
 */
public final class AudioCodec {

    public static final float SAMPLE_RATE = 8000f;
    public static final float WIDEBAND_RATE = 16000f;
    public static final AudioFormat STORED = ulaw(SAMPLE_RATE);
    public static final AudioFormat PLAYBACK = pcm16(SAMPLE_RATE);

    private static final Logger LOG = LoggerFactory.getLogger(AudioCodec.class);
    private static final int MIN_RATE = 4000;
    private static final int MAX_RATE = 192_000;
    private static final int MAX_CHANNELS = 8;
    private static final String ACCEPTED = "accepted are WAVs of PCM (8-bit unsigned, 16, 24 or 32-bit, 32 or 64-bit float), "
            + "mu-law, A-law, GSM 6.10, IMA ADPCM or Microsoft ADPCM, at 4 to 192 kHz, mono or up to 8 channels";

    /** What the recording step stores: the mu-law WAV and what it learnt while encoding it. */
    public record EncodedAudio(byte[] wav, long durationMs, String sourceEncoding) {
    }

    /** Decoded audio: PCM 16-bit little-endian mono (or mu-law as it came) at a stored rate, 8000 or 16000 Hz. */
    private record Pcm(byte[] samples, int rate, boolean muLaw, String sourceEncoding) {
    }

    private final int maxSeconds;
    private final Sox sox;
    private final boolean storeWideband;

    public AudioCodec(int maxSeconds) {
        this(maxSeconds, "sox", true);
    }

    /**
     * With the SoX command to run ({@code vmesh.audio.sox}: a name on the PATH or a full path), and
     * whether recordings at more than 8 kHz are stored at 16 kHz ({@code vmesh.audio.wideband}) or
     * narrowed to 8 kHz.
     */
    public AudioCodec(int maxSeconds, String soxCommand, boolean storeWideband) {
        this.maxSeconds = maxSeconds;
        this.sox = new Sox(soxCommand);
        this.storeWideband = storeWideband;
        if (!sox.available()) {
            LOG.warn("'{}' (SoX) does not run here: PCM, float, mu-law and A-law recordings at 8 or 16 kHz are accepted, "
                    + "other rates, GSM 6.10 and ADPCM get 503, and wideband messages cannot be played at 8 kHz. "
                    + "Install it: apt-get install sox", soxCommand);
        }
    }

    /** Accepts a switch's recording and encodes it to G.711 mu-law; 413, 415 or 503 with the reason otherwise. */
    public EncodedAudio encodeForStorage(byte[] wav) {
        if (wav == null || wav.length == 0) {
            throw new RejectedRequest(400, "a voicemail call needs its recording as the body (audio/wav)");
        }
        try {
            return store(decode(wav));
        } catch (IOException e) {
            throw new RejectedRequest(415, "the recording is not a readable WAV: " + e.getMessage());
        } catch (RejectedRequest e) {
            throw e;
        } catch (RuntimeException e) { // a header the JDK's reader chokes on is the sender's fault, not ours
            throw new RejectedRequest(415, "the recording's WAV header is damaged: " + e.getClass().getSimpleName());
        }
    }

    /**
     * Checks that a peer's body is a stored message: a G.711 mu-law mono WAV at 8 or 16 kHz. Reads the
     * header only; the SHA-256 the receiver also checks proves the samples are the sender's.
     */
    public void requireStoredFormat(byte[] wav) {
        try {
            AudioFileFormat file = Sound.fileFormat(new ByteArrayInputStream(wav == null ? new byte[0] : wav));
            AudioFormat f = file.getFormat();
            if (file.getType() == AudioFileFormat.Type.WAVE && Encoding.ULAW.equals(f.getEncoding())
                    && (f.getSampleRate() == SAMPLE_RATE || f.getSampleRate() == WIDEBAND_RATE)
                    && f.getChannels() == 1 && f.getSampleSizeInBits() == 8) {
                return;
            }
        } catch (IOException | UnsupportedAudioFileException | RuntimeException e) {
            // refused below
        }
        throw new RejectedRequest(415, "migrated audio must be the stored G.711 mu-law WAV (8 or 16 kHz mono)");
    }

    /**
     * A stored message as PCM 16-bit mono WAV at the rate asked for ({@code ?rate=}): 8000 Hz (the
     * default) or 16000 Hz. A wideband message is narrowed through SoX's low-pass filter for 8 kHz;
     * a narrowband one asked for at 16 kHz is resampled up, with nothing above 4 kHz.
     */
    public byte[] decodeForPlayback(byte[] storedWav, String rate) throws IOException {
        int wanted = playbackRate(rate);
        byte[] pcm;
        int storedRate;
        try (AudioInputStream stored = Sound.open(new ByteArrayInputStream(storedWav))) {
            storedRate = (int) stored.getFormat().getSampleRate();
            try (AudioInputStream decoded = Sound.convert(pcm16(storedRate), stored)) {
                pcm = decoded.readAllBytes();
            }
        } catch (UnsupportedAudioFileException e) {
            throw new IOException("a stored message is not a WAV", e);
        }
        if (storedRate != wanted) {
            long bound = (long) pcm.length * wanted / storedRate + 4096;
            try {
                pcm = sox.resample(pcm, storedRate, wanted, bound).pcm();
            } catch (Sox.Failed e) {
                throw new IOException("a stored message could not be resampled to " + wanted + " Hz: " + e.getMessage());
            }
        }
        return toWav(pcm, pcm16(wanted));
    }

    private static int playbackRate(String rate) {
        if (rate == null || rate.isBlank() || rate.equals("8000")) {
            return (int) SAMPLE_RATE;
        }
        if (rate.equals("16000")) {
            return (int) WIDEBAND_RATE;
        }
        throw RejectedRequest.badRequest("rate must be 8000 or 16000 (Hz), not '" + io.vmesh.security.Printable.of(rate) + "'");
    }

    /** The recording as mono PCM at the rate it will be stored at, or the reason it is refused. */
    private Pcm decode(byte[] wav) throws IOException {
        AudioFileFormat file;
        try {
            file = Sound.fileFormat(new ByteArrayInputStream(wav));
        } catch (UnsupportedAudioFileException e) {
            return decodeWithSox(wav); // the JDK reads no GSM 6.10 or ADPCM WAV: SoX may
        }
        if (file.getType() != AudioFileFormat.Type.WAVE) {
            throw new RejectedRequest(415, "the recording is " + file.getType() + ", not WAV");
        }
        try (AudioInputStream source = Sound.open(new ByteArrayInputStream(wav))) {
            AudioFormat f = source.getFormat();
            String encoding = acceptedEncoding(f);
            int rate = (int) f.getSampleRate();
            int storedRate = storedRate(rate);
            if (Encoding.ULAW.equals(f.getEncoding()) && f.getChannels() == 1 && rate == storedRate) {
                // already G.711 mu-law at a stored rate: stored bit for bit
                byte[] ulaw = readAtMost(source, (long) maxSeconds * rate);
                return new Pcm(ulaw, rate, true, encoding);
            }
            byte[] pcm = readAtMost(toPcm16Mono(source), (long) maxSeconds * rate * 2);
            if (rate != storedRate) {
                pcm = resample(pcm, rate, storedRate);
            }
            return new Pcm(pcm, storedRate, false, encoding);
        } catch (UnsupportedAudioFileException e) {
            throw new RejectedRequest(415, "the recording is not a WAV file (RIFF/WAVE) the server can read");
        }
    }

    /** GSM 6.10, IMA ADPCM and Microsoft ADPCM WAVs, decoded by SoX with at most the length limit's worth of output. */
    private Pcm decodeWithSox(byte[] wav) {
        WavHeader header = WavHeader.read(wav);
        if (header == null) {
            throw new RejectedRequest(415, "the recording is not a WAV file (RIFF/WAVE) the server can read");
        }
        String encoding = WavHeader.DECODED_BY_SOX.get(header.formatTag());
        if (encoding == null) {
            throw new RejectedRequest(415, "the recording's codec is " + header.codecName() + "; " + ACCEPTED);
        }
        if (header.channels() < 1 || header.channels() > MAX_CHANNELS || header.sampleRate() < MIN_RATE
                || header.sampleRate() > MAX_RATE) {
            throw new RejectedRequest(415, "the recording is " + header.codecName() + " with " + header.channels()
                    + " channels at " + Integer.toUnsignedString(header.sampleRate()) + " Hz; " + ACCEPTED);
        }
        int storedRate = storedRate(header.sampleRate());
        long bound = (long) maxSeconds * storedRate * 2;
        Sox.Output out;
        try {
            out = sox.decodeWav(wav, storedRate, bound);
        } catch (Sox.Failed e) {
            throw soxFailed(e, "the " + header.codecName() + " recording cannot be decoded: ");
        }
        if (out.truncated()) {
            throw tooLong();
        }
        return new Pcm(out.pcm(), storedRate, false, describe(encoding, header.sampleRate(), header.channels()));
    }

    private byte[] resample(byte[] pcm, int from, int to) {
        long bound = (long) maxSeconds * to * 2;
        try {
            Sox.Output out = sox.resample(pcm, from, to, bound);
            if (out.truncated()) {
                throw tooLong();
            }
            return out.pcm();
        } catch (Sox.Failed e) {
            throw soxFailed(e, "the recording at " + from + " Hz cannot be resampled: ");
        }
    }

    private RejectedRequest soxFailed(Sox.Failed e, String what) {
        if (e.notRun()) { // this server's fault: 503, so that the switch keeps the recording and retries
            LOG.error("Refused a recording with 503: {}", e.getMessage());
            return new RejectedRequest(503, what + e.getMessage());
        }
        return new RejectedRequest(415, what + e.getMessage());
    }

    private RejectedRequest tooLong() {
        return new RejectedRequest(413, "the recording lasts more than " + maxSeconds + " s; at most " + maxSeconds
                + " s are accepted");
    }

    /** Wideband or better is kept wideband (16 kHz), unless configured not to; narrowband is stored at 8 kHz. */
    private int storedRate(int sourceRate) {
        return storeWideband && sourceRate > SAMPLE_RATE ? (int) WIDEBAND_RATE : (int) SAMPLE_RATE;
    }

    /**
     * Reads up to the length limit's worth of bytes: a longer recording is refused, not read to its
     * end. One whole frame past the limit is asked for (an AudioInputStream reads whole frames only).
     */
    private byte[] readAtMost(AudioInputStream in, long maxBytes) throws IOException {
        int frame = Math.max(1, in.getFormat().getFrameSize());
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, maxBytes + frame));
        if (bytes.length > maxBytes) {
            throw tooLong();
        }
        return bytes;
    }

    /** PCM 16-bit little-endian mono at the source's rate: the JDK's converters, channels averaged. */
    private static AudioInputStream toPcm16Mono(AudioInputStream source) {
        AudioFormat f = source.getFormat();
        AudioInputStream linear = source;
        if (Encoding.ULAW.equals(f.getEncoding()) || Encoding.ALAW.equals(f.getEncoding())) {
            linear = Sound.convert(new AudioFormat(Encoding.PCM_SIGNED, f.getSampleRate(), 16, f.getChannels(),
                    2 * f.getChannels(), f.getSampleRate(), false), source);
        }
        return Sound.convert(pcm16(f.getSampleRate()), linear);
    }

    /** Mu-law at the PCM's rate, or the mu-law as it came. */
    private EncodedAudio store(Pcm pcm) throws IOException {
        byte[] ulaw;
        int rate = pcm.rate();
        if (pcm.muLaw()) {
            ulaw = pcm.samples();
        } else {
            try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(pcm.samples()), pcm16(rate),
                    pcm.samples().length / 2)) {
                ulaw = Sound.convert(ulaw(rate), in).readAllBytes();
            }
        }
        if (ulaw.length == 0) {
            throw new RejectedRequest(400, "the recording holds no audio");
        }
        long durationMs = ulaw.length * 1000L / rate; // one byte per mu-law sample
        if (durationMs > maxSeconds * 1000L) {
            throw tooLong();
        }
        return new EncodedAudio(toWav(ulaw, ulaw(rate)), durationMs, pcm.sourceEncoding());
    }

    /**
     * The source's encoding for the message's metadata ({@code PCM_16}, {@code ULAW}, {@code ALAW} as
     * before for 8 kHz mono; the rate and channels added otherwise), or 415 for what is not taken.
     */
    private static String acceptedEncoding(AudioFormat f) {
        Encoding e = f.getEncoding();
        int bits = f.getSampleSizeInBits();
        String name = null;
        if (Encoding.PCM_SIGNED.equals(e) && (bits == 16 || bits == 24 || bits == 32 || bits == 8)) {
            name = "PCM_" + bits;
        } else if (Encoding.PCM_UNSIGNED.equals(e) && bits == 8) {
            name = "PCM_U8";
        } else if (Encoding.PCM_FLOAT.equals(e) && (bits == 32 || bits == 64)) {
            name = "PCM_FLOAT_" + bits;
        } else if ((Encoding.ULAW.equals(e) || Encoding.ALAW.equals(e)) && bits == 8) {
            name = Encoding.ULAW.equals(e) ? "ULAW" : "ALAW";
        }
        float rate = f.getSampleRate();
        if (name == null || f.getChannels() < 1 || f.getChannels() > MAX_CHANNELS || !(rate >= MIN_RATE && rate <= MAX_RATE)
                || rate != Math.rint(rate) || f.getFrameSize() < 1) {
            throw new RejectedRequest(415, "the recording is " + f + "; " + ACCEPTED);
        }
        return describe(name, (int) rate, f.getChannels());
    }

    private static String describe(String encoding, int rate, int channels) {
        return encoding + (rate != SAMPLE_RATE ? "_" + rate + "HZ" : "") + (channels > 1 ? "_" + channels + "CH" : "");
    }

    private static AudioFormat ulaw(float rate) {
        return new AudioFormat(Encoding.ULAW, rate, 8, 1, 1, rate, false);
    }

    private static AudioFormat pcm16(float rate) {
        return new AudioFormat(Encoding.PCM_SIGNED, rate, 16, 1, 2, rate, false);
    }

    /** A complete WAV of these samples (the JDK's writer, its providers found once). */
    public static byte[] toWav(byte[] samples, AudioFormat format) throws IOException {
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
