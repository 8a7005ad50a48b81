package io.vmesh;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Scale-out: the same servers on one external ActiveMQ Classic broker, by configuration alone. */
class ExternalBrokerIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    /** ActiveMQ Classic from activemq-all, as its own process, as an operator would run it. */
    private Process startBroker(int port) throws IOException {
        Path home = Files.createDirectories(dir.resolve("activemq"));
        Path jar = Path.of("target/activemq/activemq-all.jar").toAbsolutePath();
        assertThat(jar).as("copied by the build (pre-integration-test)").exists();
        Process broker = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-Dactivemq.home=" + home, "-Dactivemq.base=" + home, "-Dactivemq.conf=" + home,
                "-Dactivemq.data=" + home.resolve("data"),
                "-cp", jar.toString(), "org.apache.activemq.console.Main", "start",
                "broker:(tcp://127.0.0.1:" + port + ")?useJmx=false&persistent=true&dataDirectory=" + home.resolve("data"))
                .redirectErrorStream(true).redirectOutput(home.resolve("broker.log").toFile()).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                assertThat(broker.isAlive()).as("broker process; see " + home.resolve("broker.log")).isTrue();
                return false;
            }
        });
        return broker;
    }

    @Test
    void serversSharingAnExternalBrokerMigrateThroughIt() throws Exception {
        int port = TestTopology.freePort();
        Process broker = startBroker(port);
        try {
            String external = "vmesh.broker.url = failover:(tcp://127.0.0.1:" + port + ")?timeout=3000\n";
            TestTopology t = new TestTopology(dir.resolve("config")).siteProperties("hq", external).siteProperties("east", external);
            try (VmeshProcess hq = new VmeshProcess(t, "hq", dir.resolve("data-hq")).start();
                 VmeshProcess east = new VmeshProcess(t, "east", dir.resolve("data-east")).start()) {
                var created = HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl("hq")
                                + "/switch/hq-sw1/calls?callId=ext-1&from=5551000&to=2050&state=NO_ANSWER"))
                        .header("Authorization", Credentials.switchToken("hq-sw1"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-02.wav"))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(created.statusCode()).isEqualTo(201);
                String id = JSON.readTree(created.body()).get("messageId").asText();

                await().atMost(Duration.ofSeconds(20)).until(() -> JSON.readTree(HTTP.send(HttpRequest.newBuilder(
                        URI.create(t.dataUrl("east") + "/mailboxes/2050/messages"))
                        .header("Authorization", Credentials.claim(HTTP, t.dataUrl("east"), "2050")).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).findValuesAsText("id").equals(List.of(id)));

                // no embedded broker was started: its KahaDB would be under <data>/broker
                assertThat(new File(dir.resolve("data-hq").toFile(), "broker")).doesNotExist();
                assertThat(new File(dir.resolve("data-east").toFile(), "broker")).doesNotExist();
            }
        } finally {
            broker.destroyForcibly().waitFor();
        }
    }
}
