package io.vmesh;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The packaged server, run as its own process from {@code target/vmesh.jar}. */
class ServerProcessIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private static HttpResponse<String> send(HttpRequest request) throws Exception {
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> postCall(TestTopology t, String site, String query, byte[] wav) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(t.dataUrl(site) + "/switch/hq-sw1/calls?" + query))
                .header("Authorization", Credentials.switchToken("hq-sw1"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(wav)).build());
    }

    @Test
    void serverFromTheJarAnswersHealthACallAndTheManagementPort() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        try (VmeshProcess hq = new VmeshProcess(topology, "hq", dir.resolve("data")).start()) {
            var health = send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq") + "/health")).build());
            assertThat(JSON.readTree(health.body()).get("status").asText()).as(health.body()).isEqualTo("UP");

            var call = postCall(topology, "hq", "callId=p-1&from=5550600&to=1800&state=NO_ANSWER", Audio.resource("speech-01.wav"));
            assertThat(call.statusCode()).isEqualTo(201);
            String id = JSON.readTree(call.body()).get("messageId").asText();
            var list = send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq") + "/mailboxes/1800/messages"))
                    .header("Authorization", Credentials.claim(HTTP, topology.dataUrl("hq"), "1800")).build());
            assertThat(JSON.readTree(list.body()).findValuesAsText("id")).containsExactly(id);

            var observe = send(HttpRequest.newBuilder(URI.create(topology.managementUrl("hq") + "/observe/health"))
                    .header("Authorization", Credentials.management()).build());
            assertThat(observe.statusCode()).isEqualTo(200);
            JsonNode checks = JSON.readTree(observe.body()).get("checks");
            assertThat(checks.findValuesAsText("name")).contains("broker", "data-directory", "migration-routes");
            assertThat(checks.findValuesAsText("status")).containsOnly("UP");
        }
    }

    @Test
    void acknowledgedMessageSurvivesKillNine() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("data");
        String id;
        try (VmeshProcess hq = new VmeshProcess(topology, "hq", data).start()) {
            var call = postCall(topology, "hq", "callId=p-2&from=5550601&to=2800&state=BUSY", Audio.resource("speech-02.wav"));
            assertThat(call.statusCode()).isEqualTo(201);
            id = JSON.readTree(call.body()).get("messageId").asText();
            hq.kill9(); // right after the 201
        }

        try (VmeshProcess hq = new VmeshProcess(topology, "hq", data).start()) {
            assertThat(data.resolve("spool/" + id + ".wav")).exists();
            assertThat(data.resolve("spool/" + id + ".json")).exists();
            // the queue is the embedded broker's: read its depth through Jolokia, as an operator would
            var depth = send(HttpRequest.newBuilder(URI.create(topology.managementUrl("hq")
                    + "/observe/jolokia/read/org.apache.activemq:type=Broker,brokerName=vmesh-hq,destinationType=Queue,"
                    + "destinationName=vmesh.migration.hq.east/QueueSize")).header("Authorization", Credentials.management()).build());
            assertThat(JSON.readTree(depth.body()).get("value").asLong()).as(depth.body()).isEqualTo(1);
        }
    }
}
