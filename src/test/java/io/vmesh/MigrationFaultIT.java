package io.vmesh;

import io.vmesh.security.Sha256;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The backup capability with real processes and real faults: every message reaches its home
 * mailbox exactly once, with its audio intact, whatever fails in between.
 */
class MigrationFaultIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** A window in which a duplicate delivery would show: a few retries of a sender. */
    private static final Duration DUPLICATE_WINDOW = ShippedIntervals.initialBackoff().multipliedBy(6);

    @TempDir
    Path dir;
    private final List<VmeshProcess> processes = new ArrayList<>();

    @AfterEach
    void killAll() throws InterruptedException {
        for (VmeshProcess p : processes) {
            p.close();
        }
    }

    private VmeshProcess server(TestTopology topology, String site) {
        VmeshProcess p = new VmeshProcess(topology, site, dir.resolve("data-" + site));
        processes.add(p);
        return p;
    }

    private static JsonNode getJson(String url) throws IOException, InterruptedException {
        String path = URI.create(url).getPath();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (path.startsWith("/mailboxes/")) {
            String dataUrl = url.substring(0, url.indexOf("/mailboxes/"));
            request.header("Authorization", Credentials.claim(HTTP, dataUrl, Credentials.extensionOf(path)));
        }
        return JSON.readTree(HTTP.send(request.build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    /** Records a message on {@code site} and returns its id. */
    private static String record(TestTopology t, String site, String ext, String sample) throws Exception {
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl(site) + "/switch/hq-sw1/calls?callId=f-"
                        + System.nanoTime() + "&from=5550700&to=" + ext + "&state=NO_ANSWER"))
                .header("Authorization", Credentials.switchToken("hq-sw1"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource(sample))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).get("messageId").asText();
    }

    /** The ids in an extension's mailbox on its home, as its owner lists them. */
    private static List<String> mailbox(TestTopology t, String home, String ext) throws Exception {
        return getJson(t.dataUrl(home) + "/mailboxes/" + ext + "/messages").findValuesAsText("id");
    }

    /** Each message's stored audio on the home has the SHA-256 the recording server computed. */
    private static void assertAudioIntact(VmeshProcess home, String ext) throws IOException {
        Path box = home.dataDir.resolve("mailboxes/" + ext);
        try (Stream<Path> files = Files.list(box)) {
            for (Path json : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                JsonNode m = JSON.readTree(json.toFile());
                byte[] audio = Files.readAllBytes(box.resolve(m.get("id").asText() + ".wav"));
                assertThat(Sha256.hex(audio)).as(m.get("id").asText()).isEqualTo(m.get("sha256").asText());
            }
        }
        try (Stream<Path> files = Files.list(box)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith(".part-"));
        }
    }

    private static int pending(TestTopology t, String site, String home) throws Exception {
        return getJson(t.dataUrl(site) + "/migrations").get(home).get("pending").asInt();
    }

    @Test
    void messagesRecordedWhileTheHomeIsDownAreDeliveredSoonAfterItReturns() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        server(t, "hq").start();
        VmeshProcess east = server(t, "east");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(record(t, "hq", "2100", i % 2 == 0 ? "speech-01.wav" : "speech-02-alaw.wav"));
        }
        assertThat(pending(t, "hq", "east")).isEqualTo(6);
        assertThat(getJson(t.dataUrl("hq") + "/migrations").get("east").get("lastError").asText()).isNotBlank();
        // the home stays away long enough for the back-off to reach its cap: all that time, all six wait
        await().during(ShippedIntervals.maxBackoff()).atMost(ShippedIntervals.maxBackoff().plus(ShippedIntervals.LOAD_SLACK))
                .until(() -> pending(t, "hq", "east") == 6);

        east.start();
        Instant back = Instant.now();
        await().atMost(ShippedIntervals.homeBackWithin()).pollInterval(Duration.ofMillis(200))
                .until(() -> mailbox(t, "east", "2100").size() == ids.size());
        System.out.println("all delivered " + Duration.between(back, Instant.now()).toMillis() + " ms after the home returned");

        assertThat(mailbox(t, "east", "2100")).containsExactlyInAnyOrderElementsOf(ids);
        assertAudioIntact(east, "2100");
        await().until(() -> pending(t, "hq", "east") == 0);
        assertThat(Files.list(dir.resolve("data-hq/spool")).toList()).isEmpty();
    }

    @Test
    void senderKilledWithABacklogDeliversAllOfItOnceAfterRestart() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        VmeshProcess hq = server(t, "hq").start();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(record(t, "hq", "2200", "speech-03.wav"));
        }
        hq.kill9(); // with 20 messages spooled and queued, none delivered

        VmeshProcess east = server(t, "east").start();
        hq.start();
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> mailbox(t, "east", "2200").size() >= ids.size());
        await().during(DUPLICATE_WINDOW).atMost(DUPLICATE_WINDOW.plus(ShippedIntervals.LOAD_SLACK)) // no duplicate arrives
                .until(() -> mailbox(t, "east", "2200").size() == ids.size());

        assertThat(mailbox(t, "east", "2200")).containsExactlyInAnyOrderElementsOf(ids);
        assertAudioIntact(east, "2200");
    }

    @Test
    void senderKilledInTheMiddleOfDeliveringStillDeliversEachMessageOnce() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        VmeshProcess hq = server(t, "hq").start();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ids.add(record(t, "hq", "2300", "speech-01.wav"));
        }
        VmeshProcess east = server(t, "east").start();
        await().atMost(ShippedIntervals.homeBackWithin()).pollInterval(Duration.ofMillis(20))
                .until(() -> !mailbox(t, "east", "2300").isEmpty());
        hq.kill9(); // mid-backlog: some sent, some in flight, some waiting

        hq.start();
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> mailbox(t, "east", "2300").size() >= ids.size());
        await().during(DUPLICATE_WINDOW).atMost(DUPLICATE_WINDOW.plus(ShippedIntervals.LOAD_SLACK)) // no duplicate arrives
                .until(() -> mailbox(t, "east", "2300").size() == ids.size());

        assertThat(mailbox(t, "east", "2300")).containsExactlyInAnyOrderElementsOf(ids);
        assertAudioIntact(east, "2300");
    }

    /**
     * A copy of routes/ whose receive-migration stalls after storing a message, before answering: the
     * window in which a home's crash leaves the sender without an answer for a message it has.
     */
    private Path routesStallingAfterThePeerStore() throws IOException {
        Path copy = Files.createDirectories(dir.resolve("routes-stalling"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Path receive = copy.resolve("receive-migration.camel.yaml");
        String anchor = """
                        - setHeader:
                            name: "CamelHttpResponseCode"
                            constant: "201"
                """;
        String yaml = Files.readString(receive);
        assertThat(yaml).as("the step that answers a stored migration").contains(anchor);
        Files.writeString(receive, yaml.replace(anchor, """
                        - delay:
                            id: "stall-before-answering"
                            constant: "600000"
                """ + anchor));
        assertThat(RoutesSchemaTest.validate(Files.readString(receive))).isEmpty();
        return copy;
    }

    @Test
    void homeThatCrashesAfterStoringButBeforeAnsweringKeepsOneCopy() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        server(t, "hq").start();
        List<String> ids = new ArrayList<>();
        Path stalling = routesStallingAfterThePeerStore();
        for (int round = 0; round < 3; round++) {
            t.siteProperties("east", "camel.main.routes-include-pattern = file:" + stalling + "/*.camel.yaml\n");
            VmeshProcess east = server(t, "east").start();
            String id = record(t, "hq", "2400", "speech-02.wav");
            ids.add(id);
            // east stores the message and stalls before answering: killed there
            await().atMost(ShippedIntervals.homeBackWithin())
                    .until(() -> Files.exists(east.dataDir.resolve("mailboxes/2400/" + id + ".json")));
            east.kill9();

            t.siteProperties("east", "");
            east.start(); // hq never got a 2xx, so it sends again
            await().atMost(ShippedIntervals.homeBackWithin()).until(() -> pending(t, "hq", "east") == 0);
            east.stop();
        }
        VmeshProcess east = server(t, "east").start();

        assertThat(mailbox(t, "east", "2400")).containsExactlyInAnyOrderElementsOf(ids);
        assertAudioIntact(east, "2400");
    }

    @Test
    void connectionCutInTheMiddleOfABodyStoresNothingPartialAndIsRetried() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        int eastReal = TestTopology.freePort();
        // the topology sends hq's migrations for east through the proxy; east listens behind it
        t.siteProperties("east", "vmesh.data-port = " + eastReal + "\n");
        try (CuttingProxy proxy = new CuttingProxy(t.dataPorts.get("east"), eastReal, 3, 40_000)) {
            VmeshProcess east = server(t, "east");
            east.start();
            server(t, "hq").start();

            String id = record(t, "hq", "2500", "speech-01.wav"); // 80 kB of mu-law: cut at 40 kB, three times

            await().atMost(ShippedIntervals.homeBackWithin()).until(() -> pending(t, "hq", "east") == 0);
            assertThat(proxy.cutsDone.get()).isEqualTo(3);
            assertThat(mailbox(t, "east", "2500")).containsExactly(id);
            assertAudioIntact(east, "2500");
        }
    }

    @Test
    void aHomeThatIsDownHoldsUpNoMessageForAHomeThatIsUp() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        server(t, "hq").start();
        server(t, "east").start(); // west stays down
        List<String> toEast = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            record(t, "hq", "3600", "speech-03.wav");
            toEast.add(record(t, "hq", "2600", "speech-03.wav"));
        }

        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> mailbox(t, "east", "2600").size() == toEast.size());

        assertThat(mailbox(t, "east", "2600")).containsExactlyInAnyOrderElementsOf(toEast);
        assertThat(pending(t, "hq", "west")).isEqualTo(10);
        assertThat(getJson(t.dataUrl("hq") + "/migrations").get("west").get("reachable").asBoolean()).isFalse();
    }

    @Test
    void homeThatRefusesTheSignatureKeepsTheMessageWaitingUntilTheSecretIsFixed() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        Path otherSecrets = dir.resolve("other-secrets.properties");
        Files.writeString(otherSecrets, Files.readString(t.configDir.resolve("secrets.properties"))
                .replace("demo-cluster-secret-change-me", "another-cluster-secret-entirely"));
        t.siteProperties("east", "vmesh.security.secrets-file = " + otherSecrets + "\n");
        server(t, "hq").start();
        VmeshProcess east = server(t, "east").start();
        String id = record(t, "hq", "2700", "speech-03.wav");

        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> getJson(t.dataUrl("hq") + "/migrations").get("east")
                .get("lastError").asText().contains("refused this server's signature"));
        assertThat(pending(t, "hq", "east")).as("waiting, not dead-lettered").isEqualTo(1);
        assertThat(mailbox(t, "east", "2700")).isEmpty();

        east.stop();
        t.siteProperties("east", "");
        east.start();
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> mailbox(t, "east", "2700").size() == 1);
        assertThat(mailbox(t, "east", "2700")).containsExactly(id);
    }
}
