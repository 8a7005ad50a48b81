package io.vmesh;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every recording a phone system writes is accepted and stored, and plays back close to the
 * band-limited original: PCM formats within G.711's quantisation (at least 30 dB), the lossy codecs
 * at the figures docs/audio.md states. Each test posts a call with the file, then GETs its audio.
 */
class RecordingFormatsTest extends OneSiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger CALLS = new AtomicInteger();
    private static PhoneRecordings recordings;

    @BeforeAll
    static void makeRecordings() {
        recordings = new PhoneRecordings(dir.resolve("recordings"));
    }

    /** Posts the recording to a fresh mailbox; the stored message's metadata. */
    private static JsonNode record(String ext, byte[] wav) throws Exception {
        var created = hq.postCall("hq-sw1", "callId=fmt-" + CALLS.incrementAndGet() + "&from=5550200&to=" + ext
                + "&state=NO_ANSWER", wav);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = JSON.readTree(created.body()).get("messageId").asText();
        for (JsonNode message : JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body())) {
            if (message.get("id").asText().equals(id)) {
                return message;
            }
        }
        throw new AssertionError("message " + id + " is not in mailbox " + ext);
    }

    private static byte[] playBack(String ext, JsonNode message, String query, float expectedRate) throws Exception {
        var audio = hq.getBytes("/mailboxes/" + ext + "/messages/" + message.get("id").asText() + "/audio" + query);
        assertThat(audio.statusCode()).isEqualTo(200);
        assertThat(audio.headers().firstValue("Content-Type")).hasValue("audio/wav");
        try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(audio.body()))) {
            AudioFormat f = in.getFormat();
            assertThat(f.getEncoding()).isEqualTo(AudioFormat.Encoding.PCM_SIGNED);
            assertThat(f.getSampleRate()).isEqualTo(expectedRate);
            assertThat(f.getSampleSizeInBits()).isEqualTo(16);
            assertThat(f.getChannels()).isEqualTo(1);
        }
        return audio.body();
    }

    /** The SNR, also printed with what was measured (docs/audio.md quotes these). */
    private static double snr(String what, byte[] reference, byte[] played) {
        return printed(what, Audio.snrDb(Audio.pcmSamples(reference), Audio.pcmSamples(played)));
    }

    private static double printed(String what, double db) {
        System.out.printf("SNR %s: %.1f dB%n", what, db);
        return db;
    }

    @Test
    void widebandRecordingIsKeptWidebandAndNarrowedThroughALowPassFilterForPlayback() throws Exception {
        byte[] wideband = recordings.wideband16k();

        JsonNode message = record("1411", wideband);

        assertThat(message.get("sourceEncoding").asText()).isEqualTo("PCM_16_16000HZ");
        assertThat(message.get("durationMs").asLong()).isBetween(10_000L, 10_100L);
        assertThat(snr("16 kHz at 16 kHz", wideband, playBack("1411", message, "?rate=16000", 16000f)))
                .as("at 16 kHz, its 5 kHz tone included").isGreaterThanOrEqualTo(30.0);
        // at 8 kHz the 5 kHz tone must be filtered out, not folded down to 3 kHz
        assertThat(snr("16 kHz at 8 kHz", recordings.speech(), playBack("1411", message, "", 8000f)))
                .as("at 8 kHz, against the band-limited original").isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void recordingAt48KilohertzIsStoredWidebandWithoutAliasing() throws Exception {
        JsonNode message = record("1412", recordings.pcm48k());

        assertThat(message.get("sourceEncoding").asText()).isEqualTo("PCM_16_48000HZ");
        // its 12 kHz tone is above 16 kHz's band: it must be gone, not folded down to 4 kHz
        assertThat(snr("48 kHz at 16 kHz", recordings.wideband16k(), playBack("1412", message, "?rate=16000", 16000f)))
                .isGreaterThanOrEqualTo(30.0);
        assertThat(snr("48 kHz at 8 kHz", recordings.speech(), playBack("1412", message, "", 8000f))).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void stereoCallRecordingIsMixedDownToTheAverageOfItsChannels() throws Exception {
        byte[] stereo = recordings.stereo8k();
        short[] mix = Audio.mixedDown(Audio.pcmSamples(stereo));

        JsonNode message = record("1413", stereo);

        assertThat(message.get("sourceEncoding").asText()).isEqualTo("PCM_16_2CH");
        assertThat(printed("stereo", Audio.snrDb(mix, Audio.pcmSamples(playBack("1413", message, "", 8000f))))).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void eightBitUnsignedTwentyFourBitAndFloatRecordingsKeepTheirSignalToNoiseRatio() throws Exception {
        byte[] u8 = recordings.encoded("u8.wav", "-e", "unsigned-integer", "-b", "8");
        byte[] pcm24 = recordings.encoded("pcm24.wav", "-b", "24");
        byte[] float32 = recordings.encoded("float32.wav", "-e", "floating-point", "-b", "32");
        byte[] pcm32 = recordings.encoded("pcm32.wav", "-e", "signed-integer", "-b", "32");

        JsonNode u8Message = record("1414", u8);
        JsonNode pcm24Message = record("1414", pcm24);
        JsonNode floatMessage = record("1414", float32);
        JsonNode pcm32Message = record("1414", pcm32);

        assertThat(u8Message.get("sourceEncoding").asText()).isEqualTo("PCM_U8");
        assertThat(pcm24Message.get("sourceEncoding").asText()).isEqualTo("PCM_24");
        assertThat(floatMessage.get("sourceEncoding").asText()).isEqualTo("PCM_FLOAT_32");
        assertThat(pcm32Message.get("sourceEncoding").asText()).isEqualTo("PCM_32");
        // 8-bit has its own quantisation noise: measured against the 8-bit file itself
        assertThat(snr("8-bit unsigned", u8, playBack("1414", u8Message, "", 8000f))).isGreaterThanOrEqualTo(30.0);
        // 24-bit, float and 32-bit hold speech-01's 16-bit samples exactly
        assertThat(snr("24-bit", recordings.speech(), playBack("1414", pcm24Message, "", 8000f))).isGreaterThanOrEqualTo(30.0);
        assertThat(snr("32-bit float", recordings.speech(), playBack("1414", floatMessage, "", 8000f))).isGreaterThanOrEqualTo(30.0);
        assertThat(snr("32-bit", recordings.speech(), playBack("1414", pcm32Message, "", 8000f))).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void asteriskGsmWav49RecordingIsDecoded() throws Exception {
        byte[] gsm = recordings.gsm();
        ByteBuffer header = ByteBuffer.wrap(gsm).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(header.getShort(20)).as("WAVE_FORMAT_GSM610").isEqualTo((short) 0x31);
        assertThat(header.getShort(32)).as("65-byte blocks").isEqualTo((short) 65);
        assertThat(gsm.length).isLessThan(recordings.speech().length / 9); // 13 kbit/s against 128

        JsonNode message = record("1415", gsm);

        assertThat(message.get("sourceEncoding").asText()).isEqualTo("GSM_610");
        assertThat(message.get("durationMs").asLong()).isBetween(10_000L, 10_100L);
        // GSM 6.10 models speech rather than its waveform: 10.9 dB measured (docs/audio.md)
        double db = printed("GSM 6.10", Audio.snrDbPadded(Audio.pcmSamples(recordings.speech()),
                Audio.pcmSamples(playBack("1415", message, "", 8000f)), 320));
        assertThat(db).isGreaterThanOrEqualTo(9.0);
    }

    @Test
    void imaAndMicrosoftAdpcmRecordingsAreDecoded() throws Exception {
        JsonNode ima = record("1416", recordings.imaAdpcm());
        JsonNode ms = record("1416", recordings.msAdpcm());

        assertThat(ima.get("sourceEncoding").asText()).isEqualTo("IMA_ADPCM");
        assertThat(ms.get("sourceEncoding").asText()).isEqualTo("MS_ADPCM");
        short[] speech = Audio.pcmSamples(recordings.speech());
        double imaDb = printed("IMA ADPCM", Audio.snrDbPadded(speech, Audio.pcmSamples(playBack("1416", ima, "", 8000f)), 1024));
        double msDb = printed("Microsoft ADPCM", Audio.snrDbPadded(speech, Audio.pcmSamples(playBack("1416", ms, "", 8000f)), 1024));
        assertThat(imaDb).as("IMA ADPCM, 19.1 dB measured").isGreaterThanOrEqualTo(17.0);
        assertThat(msDb).as("Microsoft ADPCM, 20.5 dB measured").isGreaterThanOrEqualTo(18.0);
    }

    @Test
    void narrowbandMessageAskedForAt16KilohertzIsResampledUp() throws Exception {
        byte[] speech = recordings.speech();
        JsonNode message = record("1417", speech);

        byte[] played = playBack("1417", message, "?rate=16000", 16000f);

        recordings.sox("speech-01.wav", "-r", "16000", "speech-16k.wav");
        byte[] reference = java.nio.file.Files.readAllBytes(dir.resolve("recordings/speech-16k.wav"));
        assertThat(snr("8 kHz at 16 kHz", reference, played)).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void playbackAtARateNotOfferedIsRefused() throws Exception {
        JsonNode message = record("1418", recordings.speech());

        var response = hq.get("/mailboxes/1418/messages/" + message.get("id").asText() + "/audio?rate=44100");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).get("error").asText()).contains("8000 or 16000");
    }
}
