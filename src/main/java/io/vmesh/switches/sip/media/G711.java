package io.vmesh.switches.sip.media;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioFormat.Encoding;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

/**
 * G.711 as RTP carries it (payload type 0 = PCMU, 8 = PCMA), on the JDK's javax.sound.sampled codec.
 * Whole buffers (the prompt) go through the JDK's converter; for the per-packet level measurement the
 * JDK's decoder is run once over all 256 code words at start and its answers kept.
 */
enum G711 {
    PCMU(0, Encoding.ULAW), PCMA(8, Encoding.ALAW);


    final int payloadType;
    final AudioFormat format;
    private final short[] linear = new short[256];
    /** This law's code words in the stored law (mu-law): A-law through the JDK's decoder and encoder. */
    private final byte[] stored;
    private final byte silence;

    G711(int payloadType, Encoding encoding) {
        this.payloadType = payloadType;
        this.format = new AudioFormat(encoding, 8000f, 8, 1, 1, 8000f, false);
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        byte[] pcm = convert(all, format, Formats.PCM16);
        for (int i = 0; i < 256; i++) {
            linear[i] = (short) ((pcm[2 * i] & 0xff) | (pcm[2 * i + 1] << 8));
        }
        this.silence = convert(new byte[2], Formats.PCM16, format)[0];
        this.stored = encoding == Encoding.ULAW ? all : convert(pcm, Formats.PCM16, Formats.STORED);
    }

    /** A sample of 0 in the stored law (mu-law): what lost packets become. */
    static final byte STORED_SILENCE = (byte) 0xff;

    /** The formats, in a class of their own: an enum's constructor runs before its static fields are set. */
    static final class Formats {
        static final AudioFormat PCM16 = new AudioFormat(Encoding.PCM_SIGNED, 8000f, 16, 1, 2, 8000f, false);
        /** The law recordings are kept in: G.711 mu-law, vmesh's stored format. */
        static final AudioFormat STORED = new AudioFormat(Encoding.ULAW, 8000f, 8, 1, 1, 8000f, false);

        private Formats() {
        }
    }

    /** Rewrites code words of this law in place as stored (mu-law) code words. */
    void toStored(byte[] codeWords, int offset, int length) {
        if (this != PCMU) {
            for (int i = offset; i < offset + length; i++) {
                codeWords[i] = stored[codeWords[i] & 0xff];
            }
        }
    }

    static G711 forPayloadType(int payloadType) {
        for (G711 law : values()) {
            if (law.payloadType == payloadType) {
                return law;
            }
        }
        throw new IllegalArgumentException("payload type " + payloadType + " is not G.711 (0 PCMU, 8 PCMA)");
    }

    /** A sample of 0 in this law. */
    byte silenceCodeWord() {
        return silence;
    }

    /** 8 kHz mono signed 16-bit little-endian PCM to this law, one byte per sample. */
    byte[] encode(byte[] pcm16) {
        return convert(pcm16.length % 2 == 0 ? pcm16 : java.util.Arrays.copyOf(pcm16, pcm16.length - 1), Formats.PCM16, format);
    }

    /** The mean absolute sample value (of 32768) of a run of code words. */
    int meanLevel(byte[] codeWords, int offset, int length) {
        if (length <= 0) {
            return 0;
        }
        long sum = 0;
        for (int i = offset; i < offset + length; i++) {
            sum += Math.abs(linear[codeWords[i] & 0xff]);
        }
        return (int) (sum / length);
    }

    private static byte[] convert(byte[] data, AudioFormat from, AudioFormat to) {
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(data), from, data.length / from.getFrameSize());
             AudioInputStream out = AudioSystem.getAudioInputStream(to, in)) {
            return out.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
