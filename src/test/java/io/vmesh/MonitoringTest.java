package io.vmesh;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What an operator watches: metrics, health with peers, and the migration backlog. */
class MonitoringTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static SiteServer hq;

    @BeforeAll
    static void startHqWithPeersDown() throws Exception {
        hq = new SiteServer(new TestTopology(dir.resolve("config")), "hq", dir.resolve("data")).start();
        hq.postCall("hq-sw1", "callId=m-1&from=1&to=1900&state=ANSWERED", null);
        for (int i = 0; i < 2; i++) {
            hq.postCall("hq-sw1", "callId=m-v" + i + "&from=1&to=1900&state=NO_ANSWER", Audio.resource("speech-03.wav"));
        }
        for (int i = 0; i < 3; i++) {
            hq.postCall("hq-sw1", "callId=m-w" + i + "&from=1&to=3900&state=BUSY", Audio.resource("speech-03.wav"));
        }
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }

    private static String management(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(hq.topology.managementUrl("hq") + path))
                        .header("Authorization", Credentials.management()).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static HttpResponse<String> jolokia(String authorization, String request) throws Exception {
        HttpRequest.Builder post = HttpRequest.newBuilder(URI.create(hq.topology.managementUrl("hq") + "/observe/jolokia"))
                .POST(HttpRequest.BodyPublishers.ofString(request));
        return HTTP.send(authorization == null ? post.build() : post.header("Authorization", authorization).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int jolokiaStatus(String request) throws Exception {
        HttpResponse<String> answer = jolokia(Credentials.management(), request);
        assertThat(answer.statusCode()).as(answer.body()).isIn(200, 403);
        return JSON.readTree(answer.body()).get("status").asInt();
    }

    @Test
    void theManagementPortAsksForItsLoginAndJolokiaAnswersOnlyWhatHawtioAndAnOperatorNeed() throws Exception {
        for (String path : List.of("/observe/health", "/observe/metrics", "/observe/jolokia/version")) {
            var anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(hq.topology.managementUrl("hq") + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).as(path).isEqualTo(401);
        }
        String camelState = "{\"type\":\"read\",\"mbean\":\"org.apache.camel:context=vmesh-hq,type=context,name=\\\"vmesh-hq\\\"\",\"attribute\":\"State\"}";
        assertThat(jolokia(Credentials.mailbox("operator", "wrong-password-1"), camelState).statusCode()).isEqualTo(401);

        assertThat(jolokiaStatus(camelState)).isEqualTo(200);
        assertThat(jolokiaStatus("{\"type\":\"read\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"HeapMemoryUsage\"}")).isEqualTo(200);
        assertThat(jolokiaStatus("{\"type\":\"read\",\"mbean\":\"java.lang:type=Threading\",\"attribute\":\"ThreadCount\"}")).isEqualTo(200);
        assertThat(jolokiaStatus("{\"type\":\"read\",\"mbean\":\"java.lang:type=Runtime\",\"attribute\":\"InputArguments\"}"))
                .as("the command line").isEqualTo(403);
        assertThat(jolokiaStatus("{\"type\":\"read\",\"mbean\":\"java.lang:type=Runtime\",\"attribute\":\"ClassPath\"}")).isEqualTo(403);
        assertThat(jolokiaStatus("{\"type\":\"exec\",\"mbean\":\"java.lang:type=Memory\",\"operation\":\"gc\"}")).isEqualTo(403);
        assertThat(jolokiaStatus("{\"type\":\"write\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"Verbose\",\"value\":true}"))
                .isEqualTo(403);
    }

    @Test
    void metricsCountCallsByDispositionRecordingsAndPendingMigrationsPerHome() throws Exception {
        String metrics = management("/observe/metrics");

        assertThat(metrics).containsPattern("vmesh_calls_total\\{[^}]*disposition=\"NORMAL\"[^}]*} 1\\.0");
        assertThat(metrics).containsPattern("vmesh_calls_total\\{[^}]*disposition=\"VOICEMAIL\"[^}]*} 5\\.0");
        assertThat(metrics).containsPattern("vmesh_voicemails_recorded_total\\{[^}]*} 5\\.0");
        assertThat(metrics).contains("vmesh_migrations_pending{home=\"west\"} 3.0");
        assertThat(metrics).contains("vmesh_migrations_delivered_total{home=\"west\"} 0.0");
        assertThat(metrics).contains("vmesh_migrations_delivery_latency_seconds_count{home=\"west\"} 0");
        // a home nothing has waited for since start has no series: 500 sites do not make 2,500 idle meters
        assertThat(metrics).doesNotContain("home=\"east\"");
        assertThat(metrics).containsPattern("vmesh_peers_probes_total(\\{[^}]*})? [0-9.]+");
        assertThat(metrics).containsPattern("camel_exchanges_total\\{[^}]*routeId=\"record-voicemail\"} 5\\.0");
    }

    @Test
    void migrationsShowWhatWaitsForEachHomeAndWhy() throws Exception {
        await().untilAsserted(() -> {
            JsonNode west = JSON.readTree(hq.get("/migrations").body()).get("west");
            assertThat(west.get("pending").asInt()).isEqualTo(3);
            assertThat(west.get("oldestAgeSeconds").asLong()).isGreaterThanOrEqualTo(0);
            assertThat(west.get("reachable").asBoolean()).isFalse();
            assertThat(west.get("lastError").asText()).isNotBlank();
        });
        assertThat(JSON.readTree(hq.get("/migrations").body()).get("east").get("pending").asInt()).isZero();
    }

    @Test
    void aDownPeerIsReportedButDoesNotMakeTheServerUnready() throws Exception {
        // west, which has messages waiting, is asked after; east, with none, is not (no sweep is set)
        await().untilAsserted(() -> assertThat(management("/observe/health")).contains("1 peer(s) unreachable"));
        JsonNode health = JSON.readTree(management("/observe/health?data=true"));

        assertThat(health.get("status").asText()).isEqualTo("UP");
        JsonNode peers = null;
        for (JsonNode check : health.get("checks")) {
            if (check.get("name").asText().equals("peers")) {
                peers = check;
            }
        }
        assertThat(peers).as(health.toString()).isNotNull();
        assertThat(peers.get("status").asText()).isEqualTo("UP");
        assertThat(peers.get("message").asText()).contains("1 peer(s) unreachable");
        assertThat(peers.get("data")).as(peers.toString()).isNotNull();
        assertThat(peers.get("data").get("peer.west").asText()).startsWith("unreachable since");
        assertThat(peers.get("data").get("peers.not-asked").asInt()).isEqualTo(1);
        assertThat(hq.get("/health").statusCode()).isEqualTo(200);
    }
}
