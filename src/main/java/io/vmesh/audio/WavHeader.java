package io.vmesh.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The {@code fmt } chunk of a RIFF/WAVE file, read only to name its codec: which WAVs the JDK's
 * readers refuse are GSM 6.10 or ADPCM (for SoX to decode), and which are something else (to refuse
 * by name). The samples are never read here.
 */
record WavHeader(int formatTag, int channels, int sampleRate) {

    static final int GSM_610 = 0x31;
    static final int IMA_ADPCM = 0x11;
    static final int MS_ADPCM = 0x02;

    /** The compressed codecs vmesh takes, by WAV format tag, with the name its metadata gives them. */
    static final Map<Integer, String> DECODED_BY_SOX = Map.of(GSM_610, "GSM_610", IMA_ADPCM, "IMA_ADPCM", MS_ADPCM, "MS_ADPCM");

    private static final Map<Integer, String> KNOWN = Map.ofEntries(
            Map.entry(MS_ADPCM, "Microsoft ADPCM"), Map.entry(IMA_ADPCM, "IMA ADPCM"), Map.entry(GSM_610, "GSM 6.10"),
            Map.entry(0x0040, "G.721 ADPCM"), Map.entry(0x0045, "G.726 ADPCM"), Map.entry(0x0050, "MPEG"),
            Map.entry(0x0055, "MPEG Layer 3"), Map.entry(0x0064, "G.726 ADPCM"), Map.entry(0x0065, "G.722 ADPCM"),
            Map.entry(0x0083, "G.729"), Map.entry(0x0022, "DSP Group TrueSpeech"), Map.entry(0x0042, "G.723.1"),
            Map.entry(0x0010, "OKI ADPCM"), Map.entry(0x0161, "Windows Media Audio"), Map.entry(0x00ff, "AAC"));

    /** The header of a RIFF/WAVE file, or null if it is none or its {@code fmt } chunk is missing or cut short. */
    static WavHeader read(byte[] wav) {
        if (wav == null || wav.length < 12) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) { // "RIFF", "WAVE"
            return null;
        }
        long at = 12;
        while (at + 8 <= wav.length) {
            int id = b.getInt((int) at);
            long size = Integer.toUnsignedLong(b.getInt((int) at + 4));
            if (id == 0x20746d66) { // "fmt "
                if (size < 16 || at + 8 + 16 > wav.length) {
                    return null;
                }
                int p = (int) at + 8;
                return new WavHeader(Short.toUnsignedInt(b.getShort(p)), Short.toUnsignedInt(b.getShort(p + 2)), b.getInt(p + 4));
            }
            at += 8 + size + (size & 1); // chunks are word-aligned
        }
        return null;
    }

    /** The codec's name and tag, for an error message. */
    String codecName() {
        return KNOWN.getOrDefault(formatTag, "unknown") + String.format(" (WAV format tag 0x%04x)", formatTag);
    }
}
