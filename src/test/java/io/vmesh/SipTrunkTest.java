package io.vmesh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The SIP trunk with Debian's baresip as the PBX: it calls an extension through hq with a switch's
 * digest credentials, plays speech, hangs up; the message is in the home mailbox with that speech.
 */
class SipTrunkTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double SPEECH_SECONDS = 3.0;

    @TempDir
    static Path dir;
    static TestTopology topology;
    static SiteServer hq;
    static SiteServer west;
    static Path speech;
    static short[] speechSamples;

    @BeforeAll
    static void start() throws Exception {
        topology = new TestTopology(dir.resolve("config"));
        // a short greeting keeps each call to seconds; the shipped one is tested on its own
        Files.write(topology.configDir.resolve("greeting.wav"), Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000, 16, 1), 0.3));
        hq = new SiteServer(topology, "hq", dir.resolve("hq")).start();
        west = new SiteServer(topology, "west", dir.resolve("west")).start();
        speech = dir.resolve("speech.wav");
        speechSamples = firstSeconds(Audio.resource("speech-02.wav"), SPEECH_SECONDS, speech);
    }

    @AfterAll
    static void stop() {
        if (west != null) {
            west.close();
        }
        if (hq != null) {
            hq.close();
        }
    }

    @Test
    void baresipCallIsRecordedIntoTheLocalHomeMailboxWithTheSpeechItPlayed() throws Exception {
        String ext = "1300";
        try (Baresip pbx = new Baresip(dir.resolve("call-local"), "sip:" + ext + "@" + topology.sipAddress("hq"), "hq-sw1", "demo-hq-sw1", speech)) {
            pbx.start(Duration.ofSeconds(5), "/dial sip:" + ext + "@" + topology.sipAddress("hq"));
            pbx.awaitExit(Duration.ofSeconds(30));
            JsonNode messages = await().atMost(Duration.ofSeconds(20)).until(() -> JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body()),
                    list -> list.size() == 1);
            JsonNode message = messages.get(0);
            assertThat(message.get("switchId").asText()).isEqualTo("hq-sw1");
            assertThat(message.get("recordedBy").asText()).isEqualTo("hq");
            byte[] audio = hq.getBytes("/mailboxes/" + ext + "/messages/" + message.get("id").asText() + "/audio").body();
            double snr = bestAlignedSnrDb(speechSamples, Audio.pcmSamples(audio));
            System.out.printf("SIP call recorded: %d ms, SNR %.1f dB against the speech baresip played%n", message.get("durationMs").asLong(), snr);
            assertThat(snr).isGreaterThan(25);
        }
    }

    /** The first seconds of a WAV, written as 8 kHz 16-bit PCM for baresip; their samples. */
    static short[] firstSeconds(byte[] wav, double seconds, Path target) throws Exception {
        short[] all = Audio.pcmSamples(wav);
        short[] part = java.util.Arrays.copyOf(all, (int) (seconds * 8000));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (short s : part) {
            bytes.write(s & 0xff);
            bytes.write((s >> 8) & 0xff);
        }
        AudioFormat pcm = Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000, 16, 1);
        AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(bytes.toByteArray()), pcm, part.length),
                AudioFileFormat.Type.WAVE, target.toFile());
        return part;
    }

    /**
     * SNR of the recording against the part of the reference it holds: the recording starts after
     * the greeting and the tone, so the reference is searched for the offset that matches best.
     */
    static double bestAlignedSnrDb(short[] reference, short[] recorded) {
        double best = Double.NEGATIVE_INFINITY;
        for (int offset = 0; offset < reference.length - 8000; offset++) {
            int n = Math.min(reference.length - offset, recorded.length);
            double signal = 0;
            double noise = 0;
            for (int i = 0; i < n; i++) {
                double r = reference[offset + i];
                signal += r * r;
                double d = r - recorded[i];
                noise += d * d;
                if (noise > signal && i > 800) {
                    break; // not this offset
                }
            }
            if (noise > 0 && signal > 0) {
                best = Math.max(best, 10 * Math.log10(signal / noise));
            }
        }
        return best;
    }
}
