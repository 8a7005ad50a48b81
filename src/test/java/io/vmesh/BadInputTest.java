package io.vmesh;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;

import javax.sound.sampled.AudioFormat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** Every bad request gets a 4xx saying what is wrong, and nothing is stored or queued. */
class BadInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GOOD = "callId=bad-1&from=5550300&to=1500&state=NO_ANSWER";

    @TempDir
    static Path dir;
    static SiteServer hq;

    @BeforeAll
    static void startHq() {
        TestTopology topology = new TestTopology(dir.resolve("config"))
                .siteProperties("hq", "vmesh.recording.max-seconds = 5\n");
        hq = new SiteServer(topology, "hq", dir.resolve("data")).start();
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }

    @AfterEach
    void nothingWasStoredOrQueued() throws Exception {
        assertThat(hq.storedFiles()).isEmpty();
        for (String peer : new String[] {"east", "west"}) {
            assertThat(Jms.queuedMessageIds(hq.brokerUrl(), "vmesh.migration.hq." + peer)).isEmpty();
        }
    }

    private static void assertRefused(HttpResponse<String> response, int status, String errorContains) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(JSON.readTree(response.body()).get("error").asText()).contains(errorContains);
    }

    private static byte[] speech() {
        return Audio.resource("speech-03.wav");
    }

    @Test
    void missingParameterIsNamed() throws Exception {
        assertRefused(hq.postCall("hq-sw1", "from=5550300&to=1500&state=NO_ANSWER", speech()), 400, "'callId' is missing");
        assertRefused(hq.postCall("hq-sw1", "callId=x&to=1500&state=NO_ANSWER", speech()), 400, "'from' is missing");
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&state=NO_ANSWER", speech()), 400, "'to'");
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=1500", speech()), 400, "'state' is missing");
    }

    @Test
    void malformedParameterIsRefused() throws Exception {
        assertRefused(hq.postCall("hq-sw1", "callId=a%20b%22c&from=5550300&to=1500&state=BUSY", speech()), 400,
                "parameter 'callId' must be");
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=%3Cscript%3E&to=1500&state=BUSY", speech()), 400,
                "parameter 'from' must be");
    }

    @Test
    void unknownCallStateIsRefused() throws Exception {
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=1500&state=RINGING", speech()), 400,
                "unknown call state 'RINGING'");
    }

    @Test
    void extensionThatIsNotDigitsIsRefused() throws Exception {
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=15a0&state=BUSY", speech()), 400, "extension must be 1 to 15 digits");
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=..%2F..%2Fetc&state=BUSY", speech()), 400, "extension must be");
    }

    @Test
    void extensionOutsideTheDirectoryIsRefused() throws Exception {
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=9001&state=BUSY", speech()), 404, "9001 is not in the directory");
        assertRefused(hq.postCall("hq-sw1", "callId=x&from=1&to=9001&state=ANSWERED", null), 404, "not in the directory");
    }

    @Test
    void unknownSwitchIsRefused() throws Exception {
        assertRefused(hq.postCall("rogue-sw", GOOD, speech()), 401, "switch rogue-sw must authenticate with its token");
    }

    @Test
    void bodyThatIsNotAWavIsRefused() throws Exception {
        byte[] noise = new byte[40_000];
        new java.util.Random(7).nextBytes(noise);
        assertRefused(hq.postCall("hq-sw1", GOOD, noise), 415, "not a WAV");
        assertRefused(hq.postCall("hq-sw1", GOOD, "callId=1&to=2".getBytes()), 415, "not a WAV");
    }

    @Test
    void bodyLargerThanTheDataPortTakesIsRefusedBeforeAnyRoute() throws Exception {
        var response = hq.postCall("hq-sw1", GOOD, new byte[17 * 1024 * 1024]); // more than a 300 s wideband PCM recording

        assertThat(response.statusCode()).isEqualTo(413);
    }

    @Test
    void missingRecordingIsRefused() throws Exception {
        assertRefused(hq.postCall("hq-sw1", GOOD, null), 400, "needs its recording");
    }

    @Test
    void wavOfACodecNotTakenIsRefusedByName() throws Exception {
        byte[] mp3InWav = speech().clone();
        java.nio.ByteBuffer.wrap(mp3InWav).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(20, (short) 0x55);
        assertRefused(hq.postCall("hq-sw1", GOOD, mp3InWav), 415, "MPEG Layer 3 (WAV format tag 0x0055)");
        assertRefused(hq.postCall("hq-sw1", GOOD, Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 12), 1)),
                415, "up to 8 channels");
    }

    @Test
    void gsmRecordingThatCannotBeDecodedIsRefusedNamingItsCodec() throws Exception {
        byte[] gsm = new PhoneRecordings(dir.resolve("recordings")).gsm();
        byte[] headerOnly = Arrays.copyOf(gsm, 40); // its fmt chunk, then nothing SoX can read
        assertRefused(hq.postCall("hq-sw1", GOOD, headerOnly), 415, "GSM 6.10 (WAV format tag 0x0031) recording cannot be decoded");
    }

    @Test
    void compressedRecordingIsLimitedByItsDecodedLength() throws Exception {
        byte[] gsm = new PhoneRecordings(dir.resolve("recordings")).gsm(); // 16 KB that decode to 10 s
        assertThat(gsm.length).isLessThan(20_000);
        assertRefused(hq.postCall("hq-sw1", GOOD, gsm), 413, "at most 5 s");
    }

    @Test
    void truncatedWavIsRefused() throws Exception {
        byte[] wav = speech();
        assertRefused(hq.postCall("hq-sw1", GOOD, Arrays.copyOf(wav, 30)), 415, "WAV");
        assertRefused(hq.postCall("hq-sw1", GOOD, Arrays.copyOf(wav, 44)), 400, "no audio");
    }

    @Test
    void recordingLongerThanTheConfiguredMaximumIsRefused() throws Exception {
        byte[] sixSeconds = Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1), 6);
        assertRefused(hq.postCall("hq-sw1", GOOD, sixSeconds), 413, "at most 5 s");
    }

    @Test
    void mailboxRequestThatCouldEscapeTheDataDirectoryIsRefused() throws Exception {
        assertRefused(hq.get("/mailboxes/1500/messages/..%2F..%2Fspool%2Fx/audio"), 400, "message id must be");
        assertRefused(hq.get("/mailboxes/1500/messages/hq-..%2Fx/audio"), 400, "message id must be");
        assertRefused(hq.get("/mailboxes/..%2F..%2Fspool/messages"), 400, "extension must be");
        assertRefused(hq.delete("/mailboxes/1500/messages/..%2F1501%2Fhq-1"), 400, "message id must be");
    }

    @Test
    void unknownMessageIsNotFound() throws Exception {
        assertRefused(hq.get("/mailboxes/1500/messages/hq-nothing/audio"), 404, "no message hq-nothing in mailbox 1500");
        assertRefused(hq.post("/mailboxes/1500/messages/hq-nothing/heard"), 404, "no message");
        assertRefused(hq.delete("/mailboxes/1500/messages/hq-nothing"), 404, "no message");
    }
}
