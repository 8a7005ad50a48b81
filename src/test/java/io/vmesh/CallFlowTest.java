package io.vmesh;

import io.vmesh.security.Sha256;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** FIG. 4 steps 405-435 through the real routes: every branch of call status and home resolution. */
class CallFlowTest extends OneSiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();


    @Test
    void answeredCallIsHandledNormallyAndPublishesACallDetailRecord() throws Exception {
        try (Jms.Subscription cdr = new Jms.Subscription(hq.brokerUrl(), "vmesh.cdr")) {
            var response = hq.postCall("hq-sw1", "callId=answered-1&from=5550100&to=1100&state=ANSWERED", null);

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(response.body()))
                    .isEqualTo(JSON.readTree("{\"callId\":\"answered-1\",\"disposition\":\"NORMAL\"}"));
            JsonNode record = JSON.readTree(cdr.received.poll(10, TimeUnit.SECONDS));
            assertThat(record.get("callId").asText()).isEqualTo("answered-1");
            assertThat(record.get("state").asText()).isEqualTo("ANSWERED");
            assertThat(record.get("server").asText()).isEqualTo("hq");
        }
        assertThat(Files.exists(hq.dataDir.resolve("mailboxes/1100"))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"NO_ANSWER", "BUSY", "DND", "FORWARD_ALL"})
    void unansweredCallGoesToVoicemail(String state) throws Exception {
        String ext = String.valueOf(1200 + state.length()); // one mailbox per state
        var response = hq.postCall("hq-sw2", "callId=vm-" + state + "&from=5550101&to=" + ext + "&state=" + state,
                Audio.resource("speech-03.wav"));

        assertThat(response.statusCode()).isEqualTo(201);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.get("disposition").asText()).isEqualTo("VOICEMAIL");
        assertThat(answer.get("messageId").asText()).startsWith("hq-");
        JsonNode listed = JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body());
        assertThat(listed.findValuesAsText("id")).contains(answer.get("messageId").asText());
    }

    @Test
    void extensionWhoseDirectoryEntrySaysNoVoicemailIsHandledNormally() throws Exception {
        var response = hq.postCall("hq-sw1", "callId=lobby-1&from=5550105&to=1999&state=NO_ANSWER",
                Audio.resource("speech-03.wav"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get("disposition").asText()).isEqualTo("NORMAL");
        assertThat(hq.dataDir.resolve("mailboxes/1999")).doesNotExist();
    }

    @Test
    void voicemailForAnExtensionHomedHereLandsInItsMailboxAndRaisesTheIndicator() throws Exception {
        try (Jms.Subscription mwi = new Jms.Subscription(hq.brokerUrl(), "vmesh.mwi")) {
            var response = hq.postCall("branch-sw1", "callId=local-1&from=5550102&to=1300&state=NO_ANSWER",
                    Audio.resource("speech-01.wav"));

            assertThat(response.statusCode()).isEqualTo(201);
            JsonNode answer = JSON.readTree(response.body());
            String id = answer.get("messageId").asText();
            assertThat(answer.get("home").asText()).isEqualTo("hq");
            assertThat(answer.get("delivery").asText()).isEqualTo("LOCAL");
            assertThat(hq.dataDir.resolve("mailboxes/1300/" + id + ".wav")).exists();
            assertThat(hq.dataDir.resolve("spool/" + id + ".json")).doesNotExist();
            assertThat(JSON.readTree(hq.get("/mailboxes/1300/mwi").body()).get("waiting").asInt()).isEqualTo(1);
            JsonNode indicator = JSON.readTree(mwi.received.poll(10, TimeUnit.SECONDS));
            assertThat(indicator.get("extension").asText()).isEqualTo("1300");
            assertThat(indicator.get("waiting").asInt()).isEqualTo(1);
        }
    }

    @Test
    void voicemailForARemoteHomeStaysInTheSpoolAndIsQueuedForItsHome() throws Exception {
        var response = hq.postCall("hq-sw1", "callId=remote-1&from=5550103&to=3001&state=BUSY",
                Audio.resource("speech-02.wav"));

        assertThat(response.statusCode()).isEqualTo(201);
        JsonNode answer = JSON.readTree(response.body());
        String id = answer.get("messageId").asText();
        assertThat(answer.get("home").asText()).isEqualTo("west");
        assertThat(answer.get("delivery").asText()).isEqualTo("QUEUED");
        assertThat(hq.dataDir.resolve("spool/" + id + ".wav")).exists();
        JsonNode metadata = JSON.readTree(hq.dataDir.resolve("spool/" + id + ".json").toFile());
        assertThat(metadata.get("extension").asText()).isEqualTo("3001");
        assertThat(metadata.get("recordedBy").asText()).isEqualTo("hq");
        assertThat(metadata.get("sha256").asText())
                .isEqualTo(Sha256.hex(Files.readAllBytes(hq.dataDir.resolve("spool/" + id + ".wav"))));
        await().untilAsserted(() ->
                assertThat(Jms.queuedMessageIds(hq.brokerUrl(), "vmesh.migration.hq.west")).containsExactly(id));
        assertThat(Jms.queuedMessageIds(hq.brokerUrl(), "vmesh.migration.hq.east")).doesNotContain(id);
    }

    @Test
    void switchOfAnotherSiteMayPostToThisServer() throws Exception {
        var response = hq.postCall("east-sw1", "callId=backup-1&from=5550104&to=2001&state=NO_ANSWER",
                Audio.resource("speech-02-alaw.wav"));

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(JSON.readTree(response.body()).get("home").asText()).isEqualTo("east");
    }
}
