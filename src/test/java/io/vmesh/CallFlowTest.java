package io.vmesh;

import io.vmesh.security.Sha256;

import java.nio.file.Files;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.EndpointInject;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.test.main.junit5.Configure;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * FIG. 4 steps 405-435 through the real routes, on the Camel test kit: every branch of call status
 * and home resolution. What the routes publish on the CDR and MWI topics is watched through mock
 * endpoints (the messages still go to the real broker).
 */
@CamelMainTest(propertyPlaceholderLocations = {"file:target/route-tests/CallFlowTest/hq.properties",
        "file:camel-config/application.properties"}, mockEndpoints = "activemq6:topic:*")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallFlowTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static RouteTestSite site;

    @EndpointInject("mock:activemq6:topic:vmesh.cdr")
    MockEndpoint cdr;
    @EndpointInject("mock:activemq6:topic:vmesh.mwi")
    MockEndpoint mwi;

    private SiteServer hq;

    @BeforeAll
    static void prepareHq() {
        site = RouteTestSite.prepare("CallFlowTest");
    }

    @Configure
    protected void configure(MainConfigurationProperties configuration) {
        site.requireManagementLogin(configuration);
    }

    @BeforeEach
    void hqTakesCalls() {
        hq = site.client();
        MockEndpoint.resetMocks(cdr.getCamelContext());
        await().atMost(Duration.ofSeconds(30)).until(() -> hq.get("/health").statusCode() == 200);
    }

    /** The JSON bodies a mock endpoint received so far. */
    private static java.util.List<JsonNode> received(MockEndpoint mock) throws Exception {
        java.util.List<JsonNode> bodies = new java.util.ArrayList<>();
        for (var exchange : mock.getReceivedExchanges()) {
            bodies.add(JSON.readTree(exchange.getMessage().getBody(String.class)));
        }
        return bodies;
    }

    @Test
    void answeredCallIsHandledNormallyAndPublishesACallDetailRecord() throws Exception {
        var response = hq.postCall("hq-sw1", "callId=answered-1&from=5550100&to=1100&state=ANSWERED", null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()))
                .isEqualTo(JSON.readTree("{\"callId\":\"answered-1\",\"disposition\":\"NORMAL\"}"));
        // the record is sent before the switch is answered
        assertThat(received(cdr)).singleElement().satisfies(record -> {
            assertThat(record.get("callId").asText()).isEqualTo("answered-1");
            assertThat(record.get("state").asText()).isEqualTo("ANSWERED");
            assertThat(record.get("server").asText()).isEqualTo("hq");
        });
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
        // published once vmesh.mwi.coalesce-ms has passed
        await().atMost(ShippedIntervals.indicatorWithin()).untilAsserted(() -> assertThat(received(mwi))
                .anySatisfy(indicator -> assertThat(indicator.toString()).isEqualTo("{\"extension\":\"1300\",\"waiting\":1}")));
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
