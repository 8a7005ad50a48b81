package io.vmesh;

import io.vmesh.audio.AudioCodec;
import io.vmesh.migration.PeerIntake;
import io.vmesh.storage.VoicemailMessage;
import io.vmesh.security.Sha256;
import io.vmesh.topology.Directory;

import java.nio.file.Path;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The peer request parser ({@link PeerIntake#verify}) against hostile headers and bodies: a peer's
 * request is accepted whole or refused with a 4xx reason, never failed with another exception.
 * Seeded and bounded, like {@link WavFuzzTest}.
 */
class PeerIntakeFuzzTest {

    private static final long SEED = Long.getLong("vmesh.fuzz.seed", 20261125L);
    private static final int CASES = Integer.getInteger("vmesh.fuzz.cases", 3000);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private PeerIntake intake() {
        Directory directory = Directory.load(new TestTopology(dir.resolve("config")).configDir.resolve("topology.yaml"));
        return new PeerIntake("east", directory, new AudioCodec(300));
    }

    private static byte[] storedAudio() {
        return new AudioCodec(300).encodeForStorage(Audio.resource("speech-03.wav")).wav();
    }

    private static String metadata(String id, String extension, String sha) {
        return "{\"id\":\"" + id + "\",\"callId\":\"c\",\"from\":\"1\",\"extension\":\"" + extension + "\",\"switchId\":\"hq-sw1\","
                + "\"recordedBy\":\"hq\",\"receivedAt\":\"2026-11-25T10:00:00Z\",\"durationMs\":7630,\"sourceEncoding\":\"PCM_16\","
                + "\"sha256\":\"" + sha + "\",\"heard\":false}";
    }

    @Test
    void unknownJsonFieldsInAPeersMetadataAreIgnoredNotStored() throws Exception {
        byte[] audio = storedAudio();
        String sha = Sha256.hex(audio);
        String withExtras = metadata("hq-x1", "2001", sha).replace("{\"id\"",
                "{\"admin\":true,\"path\":\"../../etc/passwd\",\"nested\":{\"a\":[1,2]},\"id\"");

        VoicemailMessage accepted = intake().verify("hq-x1", sha, withExtras, audio);

        assertThat(JSON.readTree(JSON.writeValueAsString(accepted)).has("admin")).isFalse();
        assertThat(accepted.id()).isEqualTo("hq-x1");
        assertThat(accepted.heard()).isFalse();
    }

    @Test
    void widebandStoredMessageIsAcceptedFromAPeerAndAnyOtherEncodingIsNot() throws Exception {
        PhoneRecordings recordings = new PhoneRecordings(dir.resolve("recordings"));
        byte[] wideband = new AudioCodec(300).encodeForStorage(recordings.wideband16k()).wav();
        String sha = Sha256.hex(wideband);
        PeerIntake intake = intake();

        assertThat(intake.verify("hq-w1", sha, metadata("hq-w1", "2001", sha), wideband).sha256()).isEqualTo(sha);

        byte[] pcm = recordings.wideband16k(); // what a switch sends is not what a peer may send
        String pcmSha = Sha256.hex(pcm);
        assertThatThrownBy(() -> intake.verify("hq-w2", pcmSha, metadata("hq-w2", "2001", pcmSha), pcm))
                .isInstanceOf(RejectedRequest.class).hasMessageContaining("8 or 16 kHz mono");
    }

    @Test
    void hostilePeerRequestsAreAcceptedWholeOrRefusedWithAReason() {
        PeerIntake intake = intake();
        byte[] audio = storedAudio();
        String sha = Sha256.hex(audio);
        String good = metadata("hq-f1", "2001", sha);
        String[] fragments = {"\"", "\\", "{", "}", "[", "]", ",", ":", "null", "1e999", "-1", "\u0000", "../", "%2F", "\n",
                "\"extension\":\"20x1\"", "\"id\":null", "\"durationMs\":\"x\"", "\"heard\":\"yes\"", "9".repeat(40)};
        Random random = new Random(SEED);
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            String id = random.nextInt(5) == 0 ? fragments[random.nextInt(fragments.length)] : "hq-f1";
            String digest = random.nextInt(5) == 0 ? fragments[random.nextInt(fragments.length)] : sha;
            StringBuilder meta = new StringBuilder(random.nextInt(6) == 0 ? "" : good);
            for (int k = 0, n = random.nextInt(4); k < n && meta.length() > 0; k++) {
                int at = random.nextInt(meta.length());
                meta.insert(at, fragments[random.nextInt(fragments.length)]);
            }
            byte[] body = audio;
            if (random.nextInt(4) == 0) {
                body = java.util.Arrays.copyOf(audio, random.nextInt(audio.length));
            }
            try {
                intake.verify(id, digest, meta.toString(), body);
                accepted++;
            } catch (RejectedRequest expected) {
                assertThat(expected.getStatus()).isBetween(400, 499);
                refused++;
            } catch (Throwable unexpected) {
                fail("case " + i + " of seed " + SEED + " escaped as " + unexpected + " (metadata: " + meta + ")", unexpected);
            }
        }
        assertThat(refused).isPositive();
        assertThat(accepted).isPositive();
    }
}
