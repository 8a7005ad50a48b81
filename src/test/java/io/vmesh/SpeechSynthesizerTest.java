package io.vmesh;

import io.vmesh.audio.AudioCodec;
import io.vmesh.tools.SpeechSynthesizer;

import java.io.ByteArrayInputStream;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioSystem;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The switch simulator's recordings: valid WAV of the length asked for, speech-like, repeatable. */
class SpeechSynthesizerTest {

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 3, 30})
    void recordingIsAn8kHzMonoPcmWavOfTheRequestedLength(double seconds) throws Exception {
        byte[] wav = new SpeechSynthesizer(7).wav(seconds);

        AudioFileFormat file = AudioSystem.getAudioFileFormat(new ByteArrayInputStream(wav));
        assertThat(file.getType()).isEqualTo(AudioFileFormat.Type.WAVE);
        AudioFormat format = file.getFormat();
        assertThat(format.getEncoding()).isEqualTo(AudioFormat.Encoding.PCM_SIGNED);
        assertThat(format.getSampleRate()).isEqualTo(8000f);
        assertThat(format.getSampleSizeInBits()).isEqualTo(16);
        assertThat(format.getChannels()).isEqualTo(1);
        assertThat(format.isBigEndian()).isFalse();
        assertThat(file.getFrameLength()).isEqualTo(Math.round(seconds * 8000));
        assertThat(Audio.pcmSamples(wav)).hasSize((int) Math.round(seconds * 8000));
    }

    @Test
    void vmeshAcceptsTheRecordingWithItsDuration() {
        AudioCodec.EncodedAudio stored = new AudioCodec(300).encodeForStorage(new SpeechSynthesizer(3).wav(12));

        assertThat(stored.sourceEncoding()).isEqualTo("PCM_16");
        assertThat(stored.durationMs()).isEqualTo(12_000);
    }

    @Test
    void sameSeedGivesTheSameAudioAndAnotherSeedOtherAudio() {
        assertThat(new SpeechSynthesizer(42).wav(5)).isEqualTo(new SpeechSynthesizer(42).wav(5));
        assertThat(new SpeechSynthesizer(42).wav(5)).isNotEqualTo(new SpeechSynthesizer(43).wav(5));
    }

    @Test
    void recordingSoundsLikeSpeechWithSyllablesAndPausesAndNoClipping() {
        short[] samples = new SpeechSynthesizer(11).samples(20);

        // 20 ms frames: speech has loud frames (syllables) and near-silent ones (pauses between words)
        int frame = 160;
        int frames = samples.length / frame;
        int silent = 0;
        int loud = 0;
        for (int f = 0; f < frames; f++) {
            double sum = 0;
            for (int i = f * frame; i < (f + 1) * frame; i++) {
                sum += (double) samples[i] * samples[i];
            }
            double dbfs = 10 * Math.log10(sum / frame / ((double) Short.MAX_VALUE * Short.MAX_VALUE) + 1e-12);
            if (dbfs < -50) {
                silent++;
            } else if (dbfs > -30) {
                loud++;
            }
        }
        assertThat((double) silent / frames).as("share of pauses").isBetween(0.1, 0.6);
        assertThat((double) loud / frames).as("share of syllables").isBetween(0.3, 0.9);
        int peak = 0;
        for (short s : samples) {
            peak = Math.max(peak, Math.abs(s));
        }
        assertThat(peak).isBetween(20_000, 32_000);
        // a voice's energy sits low: more of it below 1 kHz than above 2 kHz (zero crossings as a rough measure)
        int crossings = 0;
        for (int i = 1; i < samples.length; i++) {
            if ((samples[i - 1] < 0) != (samples[i] < 0)) {
                crossings++;
            }
        }
        assertThat(crossings / 20.0 / 2).as("mean frequency by zero crossings, Hz").isBetween(150.0, 1500.0);
    }
}
