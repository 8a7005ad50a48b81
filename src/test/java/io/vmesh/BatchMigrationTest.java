package io.vmesh;

import io.vmesh.migration.PeerBatch;
import io.vmesh.migration.PeerIntake;
import io.vmesh.security.PeerAuthentication;
import io.vmesh.security.Secrets;
import io.vmesh.security.Sha256;
import io.vmesh.topology.Directory;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The home's side of {@code POST /peer/voicemails}: several messages from a peer in one request, each
 * checked, stored and answered on its own. The peer east is this test, signing with the cluster secret.
 */
class BatchMigrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SiteServer hq;
    static PeerAuthentication east;
    static byte[] audio;

    @BeforeAll
    static void startHq() {
        hq = SiteServer.hqAlone(dir, "");
        Directory directory = Directory.load(hq.topology.configDir.resolve("topology.yaml"));
        east = new PeerAuthentication("east", directory, new Secrets(hq.topology.configDir.resolve("secrets.properties"), directory),
                java.time.Duration.ofSeconds(120));
        audio = SecurityTest.AudioCodecHolder.stored();
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }

    /** A message as east's send-to-home makes it: its single request's signed headers and audio. */
    private static Map<String, Object> message(String id, String extension, byte[] sent) throws Exception {
        String sha = Sha256.hex(audio); // what the metadata says the audio is
        String metadata = JSON.writeValueAsString(Map.of("id", id, "callId", "c-" + id, "from", "5551", "extension", extension,
                "switchId", "east-sw1", "recordedBy", "east", "receivedAt", "2026-11-30T05:00:00Z", "durationMs", 1000, "sha256", sha));
        String now = String.valueOf(System.currentTimeMillis());
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("messageId", id);
        item.put("sha256", sha);
        item.put("metadata", metadata);
        item.put("timestamp", now);
        item.put("signature", east.signature("POST", "/peer/voicemail", "east", now, id, metadata, sha));
        item.put("audio", sent);
        return item;
    }

    private static HttpResponse<String> postBatch(byte[] body) {
        String sha = Sha256.hex(body);
        String now = String.valueOf(System.currentTimeMillis());
        String signature = east.signature("POST", PeerBatch.PATH, "east", now, null, null, sha);
        return hq.send(PeerBatch.PATH, r -> r.header(PeerIntake.SHA256, sha).header(PeerAuthentication.PEER, "east")
                .header(PeerAuthentication.TIMESTAMP, now).header(PeerAuthentication.SIGNATURE, signature)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** The body as a sender writes it: the messages listed with their audio's length, a line feed, their audio. */
    private static HttpResponse<String> postBatch(List<Map<String, Object>> messages) throws Exception {
        return postBatch(body(messages, 0));
    }

    private static byte[] body(List<Map<String, Object>> messages, int audioBytesMissing) throws Exception {
        List<Map<String, Object>> listed = new ArrayList<>();
        var audioPart = new java.io.ByteArrayOutputStream();
        for (Map<String, Object> m : messages) {
            Map<String, Object> item = new LinkedHashMap<>(m);
            byte[] sent = (byte[]) item.remove("audio");
            if (sent != null) {
                item.put("audioLength", sent.length);
                audioPart.write(sent);
            }
            listed.add(item);
        }
        var body = new java.io.ByteArrayOutputStream();
        body.write(JSON.writeValueAsBytes(Map.of("messages", listed)));
        body.write('\n');
        byte[] audio = audioPart.toByteArray();
        body.write(audio, 0, audio.length - audioBytesMissing);
        return body.toByteArray();
    }

    /** Each message's status in the batch's answer, by id. */
    private static Map<String, Integer> statuses(HttpResponse<String> answer) throws Exception {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Map<String, Integer> byId = new LinkedHashMap<>();
        for (JsonNode m : JSON.readTree(answer.body()).get("messages")) {
            byId.put(m.get("messageId").asText(), m.get("status").asInt());
        }
        return byId;
    }

    private static List<String> files(String extension) throws Exception {
        Path box = hq.dataDir.resolve("mailboxes/" + extension);
        if (!Files.isDirectory(box)) {
            return List.of();
        }
        try (var list = Files.list(box)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void batchWithOneDamagedMessageStoresTheOthersAndAnswers422ForThatOne() throws Exception {
        byte[] damaged = audio.clone();
        damaged[damaged.length / 2] ^= 0x55; // bit rot in east's spool copy: its metadata's SHA-256 no longer matches
        var answer = postBatch(List.of(message("east-b1-a", "1801", audio), message("east-b1-bad", "1801", damaged),
                message("east-b1-c", "1801", audio)));

        assertThat(statuses(answer)).containsExactly(Map.entry("east-b1-a", 201), Map.entry("east-b1-bad", 422),
                Map.entry("east-b1-c", 201));
        assertThat(answer.body()).contains("SHA-256 of the received audio");
        assertThat(files("1801")).containsExactly("east-b1-a.json", "east-b1-a.wav", "east-b1-c.json", "east-b1-c.wav");
        assertThat(Files.readAllBytes(hq.dataDir.resolve("mailboxes/1801/east-b1-c.wav"))).isEqualTo(audio);
    }

    @Test
    void messagesMigratedHereRaiseTheirMailboxIndicator() throws Exception {
        try (Jms.Subscription mwi = new Jms.Subscription(hq.brokerUrl(), "vmesh.mwi")) {
            var answer = postBatch(List.of(message("east-b7-a", "1807", audio), message("east-b7-b", "1807", audio)));

            assertThat(statuses(answer)).containsExactly(Map.entry("east-b7-a", 201), Map.entry("east-b7-b", 201));
            // published once vmesh.mwi.coalesce-ms has passed; an event between the two may say 1, the latest says 2
            await().atMost(ShippedIntervals.indicatorWithin()).until(() -> mwi.received.contains("{\"extension\":\"1807\",\"waiting\":2}"));
        }
    }

    @Test
    void replayedOrUnsignedMessageInABatchIsRefusedAndNothingOfItStored() throws Exception {
        Map<String, Object> first = message("east-b2-first", "1802", audio);
        assertThat(statuses(postBatch(List.of(first)))).containsExactly(Map.entry("east-b2-first", 201));
        Map<String, Object> replayed = new LinkedHashMap<>(first); // the same signed message again, under another id's files
        replayed.put("audio", audio);
        Map<String, Object> unsigned = message("east-b2-unsigned", "1802", audio);
        unsigned.remove("signature");
        Map<String, Object> forged = message("east-b2-forged", "1802", audio);
        forged.put("signature", "00".repeat(32));

        var answer = postBatch(List.of(replayed, unsigned, forged, message("east-b2-good", "1802", audio)));

        assertThat(statuses(answer)).containsExactly(Map.entry("east-b2-first", 403), Map.entry("east-b2-unsigned", 401),
                Map.entry("east-b2-forged", 401), Map.entry("east-b2-good", 201));
        assertThat(files("1802")).containsExactly("east-b2-first.json", "east-b2-first.wav", "east-b2-good.json", "east-b2-good.wav");
    }

    @Test
    void messageAlreadyStoredIsAcknowledgedAgainWithoutASecondCopy() throws Exception {
        assertThat(statuses(postBatch(List.of(message("east-b3-once", "1803", audio))))).containsEntry("east-b3-once", 201);
        Path stored = hq.dataDir.resolve("mailboxes/1803/east-b3-once.json");
        var modified = Files.getLastModifiedTime(stored);

        // east got no answer to that batch and sends the message again (signed afresh), with another
        var again = postBatch(List.of(message("east-b3-once", "1803", audio), message("east-b3-new", "1803", audio)));

        assertThat(statuses(again)).containsExactly(Map.entry("east-b3-once", 201), Map.entry("east-b3-new", 201));
        assertThat(files("1803")).containsExactly("east-b3-new.json", "east-b3-new.wav", "east-b3-once.json", "east-b3-once.wav");
        assertThat(Files.getLastModifiedTime(stored)).isEqualTo(modified);
    }

    @Test
    void malformedBatchIsRefusedWholeWith400AndStoresNothing() throws Exception {
        List<HttpResponse<String>> answers = new ArrayList<>();
        answers.add(postBatch("{\"messages\": [not json".getBytes()));
        answers.add(postBatch(List.of()));
        answers.add(postBatch(List.of(message("east-b4-twice", "1804", audio), message("east-b4-twice", "1804", audio))));
        Map<String, Object> noAudio = message("east-b4-silent", "1804", audio);
        noAudio.remove("audio");
        answers.add(postBatch(List.of(message("east-b4-ok", "1804", audio), noAudio)));
        List<Map<String, Object>> tooMany = new ArrayList<>();
        for (int i = 0; i <= PeerBatch.MAX_MESSAGES; i++) {
            tooMany.add(Map.of("messageId", "east-b4-" + i, "audio", new byte[0]));
        }
        answers.add(postBatch(tooMany));
        // audio cut short, or more of it than the list says: which message would get which bytes is unknowable
        answers.add(postBatch(body(List.of(message("east-b4-short", "1804", audio)), 1)));
        byte[] longer = body(List.of(message("east-b4-long", "1804", audio)), 0);
        answers.add(postBatch(java.util.Arrays.copyOf(longer, longer.length + 1)));

        for (HttpResponse<String> answer : answers) {
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
            assertThat(JSON.readTree(answer.body()).get("error").asText()).isNotBlank();
        }
        assertThat(files("1804")).isEmpty();
    }

    @Test
    void batchOfAnEarlierVersionWithItsAudioInBase64IsStoredTheSame() throws Exception {
        // Jackson writes a byte[] as base64: the whole body is JSON, as an earlier sender wrote it
        byte[] earlier = JSON.writeValueAsBytes(Map.of("messages", List.of(message("east-b5-a", "1805", audio),
                message("east-b5-b", "1805", audio))));

        assertThat(statuses(postBatch(earlier))).containsExactly(Map.entry("east-b5-a", 201), Map.entry("east-b5-b", 201));
        assertThat(Files.readAllBytes(hq.dataDir.resolve("mailboxes/1805/east-b5-b.wav"))).isEqualTo(audio);
    }

    @Test
    void messagesOfABatchGetEachTheirOwnAudio() throws Exception {
        byte[] other = SecurityTest.AudioCodecHolder.stored().clone();
        other[other.length - 1] ^= 0x01;
        Map<String, Object> second = message("east-b6-b", "1806", other);
        second.put("sha256", Sha256.hex(other));
        String metadata = ((String) second.get("metadata")).replace(Sha256.hex(audio), Sha256.hex(other));
        second.put("metadata", metadata);
        String now = (String) second.get("timestamp");
        second.put("signature", east.signature("POST", "/peer/voicemail", "east", now, "east-b6-b", metadata, Sha256.hex(other)));

        assertThat(statuses(postBatch(List.of(message("east-b6-a", "1806", audio), second, message("east-b6-c", "1806", audio)))))
                .containsExactly(Map.entry("east-b6-a", 201), Map.entry("east-b6-b", 201), Map.entry("east-b6-c", 201));
        assertThat(Files.readAllBytes(hq.dataDir.resolve("mailboxes/1806/east-b6-a.wav"))).isEqualTo(audio);
        assertThat(Files.readAllBytes(hq.dataDir.resolve("mailboxes/1806/east-b6-b.wav"))).isEqualTo(other);
        assertThat(Files.readAllBytes(hq.dataDir.resolve("mailboxes/1806/east-b6-c.wav"))).isEqualTo(audio);
    }
}
