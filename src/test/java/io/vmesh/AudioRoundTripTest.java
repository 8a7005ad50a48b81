package io.vmesh;


import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The audio that comes out of a mailbox is the audio that went in, within G.711's quantisation. */
class AudioRoundTripTest extends OneSiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();


    private byte[] recordAndPlayBack(String ext, byte[] wav) throws Exception {
        var created = hq.postCall("hq-sw1", "callId=audio-" + ext + "&from=5550200&to=" + ext + "&state=NO_ANSWER", wav);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = JSON.readTree(created.body()).get("messageId").asText();
        var audio = hq.getBytes("/mailboxes/" + ext + "/messages/" + id + "/audio");
        assertThat(audio.statusCode()).isEqualTo(200);
        assertThat(audio.headers().firstValue("Content-Type")).hasValue("audio/wav");
        return audio.body();
    }

    @Test
    void pcmSpeechComesBackAsPcmWithinG711Quantisation() throws Exception {
        byte[] original = Audio.resource("speech-01.wav");

        byte[] played = recordAndPlayBack("1401", original);

        try (AudioInputStream in = AudioSystem.getAudioInputStream(new java.io.ByteArrayInputStream(played))) {
            AudioFormat f = in.getFormat();
            assertThat(f.getEncoding()).isEqualTo(AudioFormat.Encoding.PCM_SIGNED);
            assertThat(f.getSampleRate()).isEqualTo(8000f);
            assertThat(f.getSampleSizeInBits()).isEqualTo(16);
            assertThat(f.getChannels()).isEqualTo(1);
        }
        assertThat(Audio.snrDb(Audio.pcmSamples(original), Audio.pcmSamples(played))).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void syntheticSpeechLikeSignalKeepsItsSignalToNoiseRatio() throws Exception {
        byte[] original = Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1), 4.0);

        byte[] played = recordAndPlayBack("1402", original);

        assertThat(Audio.snrDb(Audio.pcmSamples(original), Audio.pcmSamples(played))).isGreaterThanOrEqualTo(30.0);
    }

    @Test
    void muLawRecordingIsStoredBitForBit() throws Exception {
        byte[] original = Audio.resource("speech-01-ulaw.wav");

        byte[] played = recordAndPlayBack("1403", original);

        // mu-law in, mu-law stored: decoding both must give identical samples
        assertThat(Audio.pcmSamples(played)).isEqualTo(Audio.pcmSamples(original));
    }

    @Test
    void aLawRecordingIsTranscodedWithinG711Quantisation() throws Exception {
        byte[] original = Audio.resource("speech-02-alaw.wav");

        byte[] played = recordAndPlayBack("1404", original);

        assertThat(Audio.snrDb(Audio.pcmSamples(original), Audio.pcmSamples(played))).isGreaterThanOrEqualTo(30.0);
        assertThat(Audio.snrDb(Audio.pcmSamples(Audio.resource("speech-02.wav")), Audio.pcmSamples(played)))
                .as("against the PCM the A-law was made from").isGreaterThanOrEqualTo(25.0);
    }

    @Test
    void listedDurationIsTheRecordingsLength() throws Exception {
        recordAndPlayBack("1405", Audio.resource("speech-03.wav"));

        long durationMs = JSON.readTree(hq.get("/mailboxes/1405/messages").body()).get(0).get("durationMs").asLong();

        assertThat(durationMs).isBetween(7500L, 7700L); // speech-03 lasts 7.6 s
    }
}
