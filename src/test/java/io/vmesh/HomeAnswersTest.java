package io.vmesh;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * How hq's migration route reads its home's answer to {@code POST /peer/voicemails} (each message's
 * own status, or the request's as a whole) and {@code POST /peer/voicemail}. The subject is
 * the sender, so the home "east" is a stand-in on east's port that answers as told; the real
 * receiver's answers are covered by the fault and security tests.
 */
class HomeAnswersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** hq's away-probe-interval here (ms): short, so that a test sees several probes. */
    private static final int AWAY_PROBE_INTERVAL_MS = 300;
    private static final String HQ_PROPERTIES = "vmesh.migration.max-backoff = 400\nvmesh.migration.away-probe-interval = "
            + AWAY_PROBE_INTERVAL_MS + "\n";

    @TempDir
    Path dir;
    private TestTopology topology;
    private SiteServer hq;
    private HttpServer east;
    private final AtomicInteger answer = new AtomicInteger();
    private final List<Integer> answered = new CopyOnWriteArrayList<>();
    private final List<String> paths = new CopyOnWriteArrayList<>();
    private final AtomicInteger health = new AtomicInteger(200);
    private final AtomicInteger probes = new AtomicInteger();
    /** How long the stand-in takes to answer /health (ms): beyond the probe timeout, a home that drops packets. */
    private final AtomicInteger healthDelayMs = new AtomicInteger();

    @BeforeEach
    void startHqAndAStandInForEast() throws IOException {
        topology = new TestTopology(dir.resolve("config"))
                .siteProperties("hq", HQ_PROPERTIES);
        east = HttpServer.create(new InetSocketAddress("127.0.0.1", topology.dataPorts.get("east")), 16);
        east.setExecutor(Executors.newCachedThreadPool());
        east.createContext("/health", exchange -> {
            probes.incrementAndGet();
            try {
                Thread.sleep(healthDelayMs.get());
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(health.get(), -1);
            exchange.close();
        });
        east.createContext("/peer/voicemail", exchange -> {
            exchange.getRequestBody().readAllBytes();
            paths.add("/peer/voicemail");
            int status = answer.get();
            answered.add(status);
            // a 404 as netty-http gives it for a path with no consumer: no body
            byte[] body = status == 404 ? new byte[0]
                    : ("{\"error\":\"the stand-in answers " + status + "\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        east.createContext("/peer/voicemails", exchange -> {
            JsonNode batch = JSON.readTree(exchange.getRequestBody().readAllBytes());
            paths.add("/peer/voicemails");
            int status = answer.get();
            byte[] body;
            if (status == 201 || status == 409 || status == 410) { // a message's own answer, in the batch's 200
                var outcomes = JSON.createArrayNode();
                for (JsonNode m : batch.get("messages")) {
                    answered.add(status);
                    outcomes.addObject().put("messageId", m.get("messageId").asText()).put("status", status)
                            .put("error", "the stand-in answers " + status);
                }
                status = 200;
                body = JSON.writeValueAsBytes(JSON.createObjectNode().set("messages", outcomes));
            } else { // a home starting, stopping or slow answers the request as a whole
                batch.get("messages").forEach(m -> answered.add(answer.get()));
                body = status == 404 ? new byte[0] : ("{\"error\":\"the stand-in answers " + status + "\"}").getBytes(StandardCharsets.UTF_8);
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        east.start();
        hq = new SiteServer(topology, "hq", dir.resolve("data")).start();
    }

    @AfterEach
    void stop() {
        hq.close();
        east.stop(0);
    }

    private String recordForEast(String callId) throws IOException {
        var call = hq.postCall("hq-sw1", "callId=" + callId + "&from=5551300&to=2300&state=NO_ANSWER", Audio.resource("speech-03.wav"));
        assertThat(call.statusCode()).isEqualTo(201);
        return JSON.readTree(call.body()).get("messageId").asText();
    }

    private JsonNode eastBacklog() throws IOException {
        return JSON.readTree(hq.get("/migrations").body()).get("east");
    }

    @Test
    void homeThatIsStartingStoppingOrSlowKeepsTheMessageWaitingNotDeadLettered() throws Exception {
        for (int status : new int[] {404, 408, 429, 503}) {
            answer.set(status);
            String id = recordForEast("away-" + status);
            await().until(() -> answered.stream().filter(s -> s == status).count() >= 3);

            assertThat(eastBacklog().get("pending").asInt()).as("after %d", status).isEqualTo(1);
            assertThat(eastBacklog().get("lastError").asText()).contains(String.valueOf(status));
            assertThat(hq.dataDir.resolve("dead-letter/" + id + ".json")).as("after %d", status).doesNotExist();
            assertThat(hq.dataDir.resolve("spool/" + id + ".wav")).exists();

            answer.set(201);
            await().until(() -> eastBacklog().get("pending").asInt() == 0);
            assertThat(hq.dataDir.resolve("spool/" + id + ".wav")).doesNotExist();
            assertThat(hq.dataDir.resolve("sent/" + id + ".json")).exists();
        }
    }

    @Test
    void awayHomeIsAskedByOneConsumerForAllAndEveryWaitingMessageGoesOnceItAnswers() throws Exception {
        answer.set(503);
        health.set(503);
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(recordForEast("waiting-" + i));
        }
        await().until(() -> eastBacklog().get("pending").asInt() == 8 && !eastBacklog().get("reachable").asBoolean());
        int probesBefore = probes.get();
        long windowStarted = System.nanoTime();
        // for 3 s, no message is sent to a home whose health is 503 ...
        await().during(java.time.Duration.ofSeconds(3)).atMost(java.time.Duration.ofSeconds(3).plus(ShippedIntervals.LOAD_SLACK))
                .until(answered::isEmpty);
        long windowMs = (System.nanoTime() - windowStarted) / 1_000_000;

        // ... and 8 messages on 16 consumers, each retrying every initial-backoff (250 ms), make one
        // probe per away-probe-interval for all of them
        assertThat(probes.get() - probesBefore).isBetween(3, (int) (windowMs / AWAY_PROBE_INTERVAL_MS) + 3);

        answer.set(201);
        health.set(200);
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> eastBacklog().get("pending").asInt() == 0);
        assertThat(answered.stream().filter(s -> s == 201).count()).isEqualTo(8);
        for (String id : ids) {
            assertThat(hq.dataDir.resolve("sent/" + id + ".json")).exists();
        }
    }

    @Test
    void homeWhoseHealthGivesNoAnswerIsAskedByOneProbeAtATime() throws Exception {
        answer.set(503);
        healthDelayMs.set((int) ShippedIntervals.probeTimeout().multipliedBy(3).toMillis() / 2);
        for (int i = 0; i < 8; i++) {
            recordForEast("unanswered-" + i);
        }
        await().until(() -> eastBacklog().get("pending").asInt() == 8 && !eastBacklog().get("reachable").asBoolean());
        // each probe waits out its timeout, and the next starts an away-probe-interval after it gave up:
        // not one every interval, piling up on a home that does not answer
        long spacing = ShippedIntervals.probeTimeout().toMillis() + AWAY_PROBE_INTERVAL_MS;
        int probesBefore = probes.get();
        long windowStarted = System.nanoTime();
        Thread.sleep(3 * spacing);
        long windowMs = (System.nanoTime() - windowStarted) / 1_000_000;

        // at most one probe per spacing, one more begun before the window, one from watch-peers
        assertThat(probes.get() - probesBefore).isBetween(1, (int) (windowMs / spacing) + 3);

        healthDelayMs.set(0);
        answer.set(201);
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> eastBacklog().get("pending").asInt() == 0);
    }

    @Test
    void homeThatRefusesTheMessageForGoodDeadLettersItWithItsReason() throws Exception {
        answer.set(410);
        String id = recordForEast("refused-410");

        await().until(() -> Files.exists(hq.dataDir.resolve("dead-letter/" + id + ".json")));

        assertThat(answered).containsExactly(410);
        assertThat(Files.readString(hq.dataDir.resolve("dead-letter/" + id + ".json"))).contains("410", "the stand-in answers 410");
        assertThat(hq.dataDir.resolve("dead-letter/" + id + ".wav")).exists();
        assertThat(eastBacklog().get("pending").asInt()).isZero();
    }

    @Test
    void homeWhoseTopologyHomesTheExtensionElsewhereKeepsTheMessageWaitingUntilTheyAgree() throws Exception {
        answer.set(409); // the home's topology.yaml has not caught up with hq's yet (or differs)
        String id = recordForEast("disagree-409");
        await().until(() -> answered.size() >= 3);

        assertThat(eastBacklog().get("pending").asInt()).isEqualTo(1);
        assertThat(eastBacklog().get("lastError").asText()).contains("409", "topologies of the two servers differ");
        assertThat(hq.dataDir.resolve("dead-letter/" + id + ".json")).doesNotExist();

        answer.set(201); // its topology now agrees
        await().until(() -> eastBacklog().get("pending").asInt() == 0);
        assertThat(hq.dataDir.resolve("sent/" + id + ".json")).exists();
    }

    @Test
    void homeOfAnEarlierVersionWithoutTheBatchPathGetsOneMessagePerRequest() throws Exception {
        // as netty-http answers a path it does not serve
        sentAloneAfterTheBatchPathAnswers(404, null, "earlier-version");
    }

    @Test
    void homeOfAnEarlierVersionThatCannotReadTheBatchGetsOneMessagePerRequest() throws Exception {
        // as a home reading only base64 audio in JSON answers
        sentAloneAfterTheBatchPathAnswers(400, "{\"error\":\"every message of a batch has a messageId and its audio\"}", "earlier-format");
    }

    /** East's /peer/voicemails answers {@code status}: the message goes again, alone, and is delivered, not dead-lettered. */
    private void sentAloneAfterTheBatchPathAnswers(int status, String body, String callId) throws Exception {
        east.removeContext("/peer/voicemails");
        east.createContext("/peer/voicemails", exchange -> {
            exchange.getRequestBody().readAllBytes();
            paths.add("/peer/voicemails " + status);
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        answer.set(201);
        String id = recordForEast(callId);

        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> Files.exists(hq.dataDir.resolve("sent/" + id + ".json")));

        assertThat(paths).containsExactly("/peer/voicemails " + status, "/peer/voicemail");
        assertThat(answered).containsExactly(201);
        assertThat(hq.dataDir.resolve("dead-letter/" + id + ".json")).doesNotExist();
    }

    @Test
    void aRecordingTooLongToShareABatchGoesAloneAndAShortOneInABatch() throws Exception {
        answer.set(201);
        // 20 s: 160 KB stored (mu-law), over the 128 KiB of the longest recording that goes in a batch
        byte[] longRecording = Audio.wav(Audio.format(javax.sound.sampled.AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1), 20);
        var call = hq.postCall("hq-sw1", "callId=long-1&from=5551300&to=2300&state=NO_ANSWER", longRecording);
        assertThat(call.statusCode()).isEqualTo(201);
        String longId = JSON.readTree(call.body()).get("messageId").asText();
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> Files.exists(hq.dataDir.resolve("sent/" + longId + ".json")));
        String shortId = recordForEast("short-1");
        await().atMost(ShippedIntervals.homeBackWithin()).until(() -> Files.exists(hq.dataDir.resolve("sent/" + shortId + ".json")));

        assertThat(paths).containsExactly("/peer/voicemail", "/peer/voicemails");
        assertThat(answered).containsExactly(201, 201);
    }

    /** The operator's re-drive of a dead-lettered message (docs/operations.md). */
    @Test
    void deadLetterPutBackIntoTheSpoolIsSentAgainAfterARestart() throws Exception {
        answer.set(410);
        String id = recordForEast("redriven-410");
        await().until(() -> Files.exists(hq.dataDir.resolve("dead-letter/" + id + ".json")));
        hq.close();

        // the operator's re-drive (docs/operations.md): the files back into the spool, then start
        Path data = dir.resolve("data");
        Files.move(data.resolve("dead-letter/" + id + ".wav"), data.resolve("spool/" + id + ".wav"));
        Files.move(data.resolve("dead-letter/" + id + ".json"), data.resolve("spool/" + id + ".json"));
        answer.set(201);
        // restarted sending one message per request (POST /peer/voicemail), as to a home of an earlier version
        topology.siteProperties("hq", HQ_PROPERTIES + "vmesh.migration.batch-size = 1\n");
        hq = new SiteServer(topology, "hq", data).start();

        await().until(() -> Files.exists(data.resolve("sent/" + id + ".json")));
        assertThat(answered).containsExactly(410, 201);
        assertThat(paths).containsExactly("/peer/voicemails", "/peer/voicemail");
        assertThat(data.resolve("spool/" + id + ".wav")).doesNotExist();
    }
}
