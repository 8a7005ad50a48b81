package io.vmesh;

import io.vmesh.audio.AudioCodec;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;

import javax.sound.sampled.AudioSystem;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What vmesh.audio.wideband and vmesh.audio.sox change in the codec the recording step uses. */
class AudioSettingsTest {

    @TempDir
    static Path dir;

    @Test
    void widebandSetToFalseNarrowsAWidebandRecordingTo8KilohertzThroughALowPassFilter() throws Exception {
        PhoneRecordings recordings = new PhoneRecordings(dir);

        AudioCodec.EncodedAudio stored = new AudioCodec(300, "sox", false).encodeForStorage(recordings.wideband16k());

        assertThat(AudioSystem.getAudioFileFormat(new ByteArrayInputStream(stored.wav())).getFormat())
                .matches(f -> f.matches(AudioCodec.STORED), "G.711 mu-law 8 kHz mono");
        assertThat(Audio.snrDb(Audio.pcmSamples(recordings.speech()), Audio.pcmSamples(stored.wav())))
                .isGreaterThanOrEqualTo(30.0);
        new AudioCodec(300, "sox", false).requireStoredFormat(stored.wav()); // what any peer accepts
    }

    @Test
    void withoutSoxAGsmRecordingGets503SoThatTheSwitchKeepsIt() {
        PhoneRecordings recordings = new PhoneRecordings(dir);
        AudioCodec withoutSox = new AudioCodec(300, dir.resolve("no-such-sox").toString(), true);

        RejectedRequest refused = catchThrowableOfType(() -> withoutSox.encodeForStorage(recordings.gsm()), RejectedRequest.class);

        assertThat(refused.getStatus()).isEqualTo(503);
        assertThat(refused.getMessage()).contains("GSM 6.10").contains("apt-get install sox");
        // what the JDK reads alone is still taken
        assertThat(withoutSox.encodeForStorage(recordings.speech()).sourceEncoding()).isEqualTo("PCM_16");
    }
}
