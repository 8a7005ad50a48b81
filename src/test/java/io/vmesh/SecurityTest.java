package io.vmesh;

import io.vmesh.audio.AudioCodec;
import io.vmesh.migration.PeerIntake;
import io.vmesh.security.PeerAuthentication;
import io.vmesh.security.Secrets;
import io.vmesh.security.Sha256;
import io.vmesh.topology.Directory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls only from known switches, migrations only from peers, mailboxes only for their owners; secrets never shown. */
class SecurityTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String CALL = "callId=sec-1&from=5551200&to=1700&state=NO_ANSWER";

    @TempDir
    static Path dir;
    static SiteServer hq;

    @BeforeAll
    static void startHq() {
        TestTopology topology = new TestTopology(dir.resolve("config")).siteProperties("hq",
                "vmesh.switch.max-calls-per-second = 5\n"
                        + "vmesh.http.request-read-timeout-ms = 1500\n");
        hq = new SiteServer(topology, "hq", dir.resolve("data")).start();
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }

    private static HttpResponse<String> call(String switchId, String authorization, String query) {
        return hq.send("/switch/" + switchId + "/calls?" + query, r -> {
            if (authorization != null) {
                r.header("Authorization", authorization);
            }
            return r.POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-03.wav")));
        });
    }

    private static HttpResponse<String> mailbox(String path, String authorization) {
        return hq.send(path, r -> authorization == null ? r.GET() : r.header("Authorization", authorization).GET());
    }

    private static String error(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("error").asText();
    }

    @Test
    void callFromASwitchWithoutItsTokenIsRefusedAndStoresNothing() throws Exception {
        var none = call("hq-sw2", null, CALL);
        var wrong = call("hq-sw2", "Bearer demo-hq-sw1", CALL); // another switch's token
        var basic = call("hq-sw2", Credentials.mailbox("1700", "0000"), CALL);

        for (var response : List.of(none, wrong, basic)) {
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(error(response)).contains("switch hq-sw2 must authenticate");
        }
        assertThat(hq.dataDir.resolve("mailboxes/1700")).doesNotExist();
        assertThat(call("hq-sw2", Credentials.switchToken("hq-sw2"), CALL).statusCode()).isEqualTo(201);
    }

    @Test
    void mailboxIsOnlyForItsOwner() throws Exception {
        assertThat(call("hq-sw1", Credentials.switchToken("hq-sw1"), "callId=o-1&from=1&to=1701&state=BUSY").statusCode()).isEqualTo(201);

        assertThat(mailbox("/mailboxes/1701/messages", null).statusCode()).isEqualTo(401);
        assertThat(mailbox("/mailboxes/1701/messages", Credentials.mailbox("1702", "0000")).statusCode())
                .as("another extension's credentials").isEqualTo(401);
        assertThat(mailbox("/mailboxes/1701/messages", Credentials.mailbox("1701", "0000")).statusCode())
                .as("the default PIN only sets a PIN").isEqualTo(403);
        var owner = mailbox("/mailboxes/1701/messages", Credentials.claim(HTTP, hq.topology.dataUrl("hq"), "1701"));
        assertThat(owner.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(owner.body())).hasSize(1);
    }

    @Test
    void ownerChangesThePinAndOnlyItsKeyedSaltedHashIsKept() throws Exception {
        var changed = hq.send("/mailboxes/1703/pin", r -> r.header("Authorization", Credentials.mailbox("1703", "0000"))
                .PUT(HttpRequest.BodyPublishers.ofString("482916")));

        assertThat(changed.statusCode()).isEqualTo(204);
        assertThat(mailbox("/mailboxes/1703/mwi", Credentials.mailbox("1703", "0000")).statusCode()).isEqualTo(401);
        assertThat(mailbox("/mailboxes/1703/mwi", Credentials.mailbox("1703", "482916")).statusCode()).isEqualTo(200);
        String stored = Files.readString(hq.dataDir.resolve("pins/1703"));
        assertThat(stored).doesNotContain("482916");
        var tooShort = hq.send("/mailboxes/1703/pin", r -> r.header("Authorization", Credentials.mailbox("1703", "482916"))
                .PUT(HttpRequest.BodyPublishers.ofString("12")));
        assertThat(tooShort.statusCode()).isEqualTo(400);
    }

    @Test
    void aPinHashCopiedOffTheDiskCannotBeGuessedAtWithoutThePinKey() throws Exception {
        assertThat(hq.send("/mailboxes/1704/pin", r -> r.header("Authorization", Credentials.mailbox("1704", "0000"))
                .PUT(HttpRequest.BodyPublishers.ofString("7391"))).statusCode()).isEqualTo(204);
        String[] record = Files.readString(hq.dataDir.resolve("pins/1704")).trim().split("\\$");
        byte[] salt = java.util.Base64.getDecoder().decode(record[record.length - 2]);
        byte[] hash = java.util.Base64.getDecoder().decode(record[record.length - 1]);

        // what someone holding only the data directory would try: every PIN, with the salt at hand
        for (int iterations : new int[] {60_000}) {
            byte[] guess = javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new javax.crypto.spec.PBEKeySpec("7391".toCharArray(), salt, iterations, 256)).getEncoded();
            assertThat(guess).as("the right PIN, unkeyed, does not give the stored hash").isNotEqualTo(hash);
        }
        assertThat(mailbox("/mailboxes/1704/mwi", Credentials.mailbox("1704", "7391")).statusCode()).isEqualTo(200);
    }

    @Test
    void migrationThatIsNotSignedByAPeerIsRefusedAndStoresNothing() throws Exception {
        byte[] audio = AudioCodecHolder.stored();
        String sha = Sha256.hex(audio);
        String metadata = "{\"id\":\"east-forged-1\",\"callId\":\"c-1\",\"from\":\"5551\",\"extension\":\"1706\",\"switchId\":\"east-sw1\","
                + "\"recordedBy\":\"east\",\"sha256\":\"" + sha + "\",\"receivedAt\":\"2026-01-01T00:00:00Z\"}";
        PeerAuthentication signer = new PeerAuthentication("east", Directory.load(hq.topology.configDir.resolve("topology.yaml")),
                new Secrets(hq.topology.configDir.resolve("secrets.properties"), Directory.load(hq.topology.configDir.resolve("topology.yaml"))),
                java.time.Duration.ofSeconds(120));
        long now = System.currentTimeMillis();

        var unsigned = peerPost(audio, sha, metadata, null, null, null);
        var badSignature = peerPost(audio, sha, metadata, "east", String.valueOf(now), "00".repeat(32));
        var stale = peerPost(audio, sha, metadata, "east", String.valueOf(now - 600_000),
                signer.signature("POST", "/peer/voicemail", "east", String.valueOf(now - 600_000), "east-forged-1", metadata, sha));
        String good = signer.signature("POST", "/peer/voicemail", "east", String.valueOf(now), "east-forged-1", metadata, sha);
        var first = peerPost(audio, sha, metadata, "east", String.valueOf(now), good);
        var replay = peerPost(audio, sha, metadata, "east", String.valueOf(now), good);

        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(badSignature.statusCode()).isEqualTo(401);
        assertThat(stale.statusCode()).isEqualTo(403);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(replay.statusCode()).isEqualTo(403);
        assertThat(error(replay)).contains("replay");
        try (var files = Files.list(hq.dataDir.resolve("mailboxes/1706"))) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrder("east-forged-1.wav", "east-forged-1.json");
        }
    }

    @Test
    void thePeerHeaderIsCoveredByTheSignature() throws Exception {
        byte[] audio = AudioCodecHolder.stored();
        String sha = Sha256.hex(audio);
        String metadata = "{\"id\":\"east-forged-1\",\"callId\":\"c-1\",\"from\":\"5551\",\"extension\":\"1706\",\"switchId\":\"east-sw1\","
                + "\"recordedBy\":\"east\",\"sha256\":\"" + sha + "\",\"receivedAt\":\"2026-01-01T00:00:00Z\"}";
        Directory directory = Directory.load(hq.topology.configDir.resolve("topology.yaml"));
        PeerAuthentication east = new PeerAuthentication("east", directory,
                new Secrets(hq.topology.configDir.resolve("secrets.properties"), directory), java.time.Duration.ofSeconds(120));
        String now = String.valueOf(System.currentTimeMillis());

        var claimsWest = peerPost(audio, sha, metadata, "west", now,
                east.signature("POST", "/peer/voicemail", "east", now, "east-forged-1", metadata, sha));

        assertThat(claimsWest.statusCode()).as(claimsWest.body()).isEqualTo(401);
        assertThat(error(claimsWest)).contains("signature does not match");
    }

    @Test
    void aSwitchNotInTheTopologyGetsTheSame401AsAWrongToken() throws Exception {
        var unknown = call("rogue-sw", "Bearer demo-rogue-sw", CALL);
        var wrong = call("hq-sw2", "Bearer wrong", CALL);

        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(error(unknown)).isEqualTo(error(wrong).replace("hq-sw2", "rogue-sw"));
    }

    @Test
    void aPeersMetadataIsCheckedLikeASwitchsCallAndNothingIsStoredForABadField() throws Exception {
        byte[] audio = AudioCodecHolder.stored();
        String sha = Sha256.hex(audio);
        Object[][] bad = {{"receivedAt", null}, {"recordedBy", "east\n12:00:00.000 INFO forged line"},
                {"callId", "<script>"}, {"durationMs", -5}, {"from", "a b"}, {"switchId", "../x"}};
        for (int i = 0; i < bad.length; i++) {
            String id = "east-badfield-" + i;
            java.util.Map<String, Object> metadata = new java.util.LinkedHashMap<>(java.util.Map.of("id", id, "callId", "c-1",
                    "from", "5551", "extension", "1709", "switchId", "east-sw1", "recordedBy", "east",
                    "receivedAt", "2026-11-30T05:00:00Z", "durationMs", 1000, "sha256", sha));
            metadata.put((String) bad[i][0], bad[i][1]);

            var response = signedPeerPost(id, audio, sha, JSON.writeValueAsString(metadata));

            assertThat(response.statusCode()).as(bad[i][0] + ": " + response.body()).isEqualTo(400);
            assertThat(error(response)).contains("'" + bad[i][0] + "'").doesNotContain("\n");
        }
        assertThat(hq.dataDir.resolve("mailboxes/1709")).as("nothing stored").doesNotExist();
    }

    @Test
    void oneDamagedMetadataFileOnDiskDoesNotTakeTheMailboxListingDown() throws Exception {
        assertThat(call("hq-sw1", Credentials.switchToken("hq-sw1"), "callId=list-1&from=5551&to=1711&state=BUSY").statusCode())
                .isEqualTo(201);
        Path box = hq.dataDir.resolve("mailboxes/1711");
        Files.writeString(box.resolve("planted-1.json"), "{\"id\":\"planted-1\",\"receivedAt\":null,\"heard\":false}");
        Files.writeString(box.resolve("planted-2.json"), "{\"id\": [not json");

        String owner = Credentials.claim(HTTP, hq.topology.dataUrl("hq"), "1711");
        var listing = mailbox("/mailboxes/1711/messages", owner);

        assertThat(listing.statusCode()).as(listing.body()).isEqualTo(200);
        assertThat(JSON.readTree(listing.body()).findValuesAsText("callId")).contains("list-1");
        assertThat(mailbox("/mailboxes/1711/mwi", owner).statusCode()).isEqualTo(200);
    }

    @Test
    void aPeersConcurrentRetriesOfOneMessageStoreItOnceWholeAndLeaveNoTemporaryFile() throws Exception {
        byte[] audio = AudioCodecHolder.stored();
        String sha = Sha256.hex(audio);
        String id = "east-retried-1";
        String metadata = JSON.writeValueAsString(java.util.Map.of("id", id, "callId", "c-retried", "from", "5551",
                "extension", "1712", "switchId", "east-sw1", "recordedBy", "east", "receivedAt", "2026-11-30T05:00:00Z",
                "durationMs", 1000, "sha256", sha));
        long now = System.currentTimeMillis();
        List<CompletableFuture<HttpResponse<String>>> retries = new ArrayList<>();
        for (int i = 0; i < 8; i++) { // each signed afresh, as a sender's retry is
            long signedAt = now - i;
            retries.add(CompletableFuture.supplyAsync(() -> signedPeerPost(id, audio, sha, metadata, signedAt)));
        }

        for (CompletableFuture<HttpResponse<String>> retry : retries) {
            HttpResponse<String> answer = retry.get();
            assertThat(answer.statusCode()).as(answer.body()).isBetween(200, 299);
        }
        Path box = hq.dataDir.resolve("mailboxes/1712");
        try (var files = Files.list(box)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(id + ".json", id + ".wav");
        }
        assertThat(Files.readAllBytes(box.resolve(id + ".wav"))).isEqualTo(audio);
    }

    private static HttpResponse<String> signedPeerPost(String id, byte[] audio, String sha, String metadata) {
        return signedPeerPost(id, audio, sha, metadata, System.currentTimeMillis());
    }

    private static HttpResponse<String> signedPeerPost(String id, byte[] audio, String sha, String metadata, long signedAt) {
        Directory directory = Directory.load(hq.topology.configDir.resolve("topology.yaml"));
        PeerAuthentication east = new PeerAuthentication("east", directory,
                new Secrets(hq.topology.configDir.resolve("secrets.properties"), directory), java.time.Duration.ofSeconds(120));
        String now = String.valueOf(signedAt);
        String signature = east.signature("POST", "/peer/voicemail", "east", now, id, metadata, sha);
        return hq.send("/peer/voicemail", r -> r.header(PeerIntake.MESSAGE_ID, id).header(PeerIntake.SHA256, sha)
                .header(PeerIntake.METADATA, metadata).header(PeerAuthentication.PEER, "east")
                .header(PeerAuthentication.TIMESTAMP, now).header(PeerAuthentication.SIGNATURE, signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(audio)));
    }

    @Test
    void twoMessagesWithTheSameAudioSignedInTheSameMillisecondAreNotAReplayOfEachOther() throws Exception {
        Directory directory = Directory.load(hq.topology.configDir.resolve("topology.yaml"));
        PeerAuthentication signer = new PeerAuthentication("east", directory,
                new Secrets(hq.topology.configDir.resolve("secrets.properties"), directory), java.time.Duration.ofSeconds(120));
        String sha = Sha256.hex(AudioCodecHolder.stored());

        String first = signer.signature("POST", "/peer/voicemail", "east", "1700000000000", "hq-a", "{\"id\":\"hq-a\"}", sha);
        String second = signer.signature("POST", "/peer/voicemail", "east", "1700000000000", "hq-b", "{\"id\":\"hq-b\"}", sha);

        assertThat(first).isNotEqualTo(second);
    }

    private static HttpResponse<String> peerPost(byte[] audio, String sha, String metadata, String peer, String ts, String sig) {
        return hq.send("/peer/voicemail", r -> {
            r.header(PeerIntake.MESSAGE_ID, "east-forged-1").header(PeerIntake.SHA256, sha).header(PeerIntake.METADATA, metadata);
            if (peer != null) {
                r.header(PeerAuthentication.PEER, peer).header(PeerAuthentication.TIMESTAMP, ts).header(PeerAuthentication.SIGNATURE, sig);
            }
            return r.POST(HttpRequest.BodyPublishers.ofByteArray(audio));
        });
    }

    @Test
    void aFloodOfCallsFromOneSwitchIsRefusedWith429NotQueued() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            calls.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(hq.topology.dataUrl("hq")
                            + "/switch/branch-sw2/calls?callId=flood-" + i + "&from=1&to=1707&state=ANSWERED"))
                    .header("Authorization", Credentials.switchToken("branch-sw2"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = calls.stream().map(c -> c.join().statusCode()).toList();

        assertThat(statuses).contains(429).allMatch(s -> s == 200 || s == 429);
        assertThat(statuses.stream().filter(s -> s == 200).count()).isLessThanOrEqualTo(10);
    }

    @Test
    void aClientTricklingItsBodyIsCutOffWith408AndNothingIsStored() throws Exception {
        byte[] wav = Audio.resource("speech-03.wav");
        List<Path> before = hq.storedFiles();
        long started = System.nanoTime();
        String answer;
        try (var socket = new java.net.Socket("127.0.0.1", hq.topology.dataPorts.get("hq"))) {
            socket.setSoTimeout(10_000);
            var out = socket.getOutputStream();
            out.write(("POST /switch/hq-sw1/calls?callId=slow-1&from=5551201&to=1708&state=NO_ANSWER HTTP/1.1\r\n"
                    + "Host: 127.0.0.1\r\nAuthorization: " + Credentials.switchToken("hq-sw1") + "\r\n"
                    + "Content-Length: " + wav.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            // a byte every 100 ms: never idle long enough for a plain read-idle timeout to notice
            int sent = 0;
            try {
                while (sent < wav.length && System.nanoTime() - started < 8_000_000_000L) {
                    out.write(wav, sent++, 1);
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (java.net.SocketException closedByServer) {
                // expected: the server hung up on us
            }
            answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;

        assertThat(answer).startsWith("HTTP/1.1 408").contains("request not received completely within 1500 ms");
        assertThat(seconds).as("cut off after the 1.5 s deadline, not when the body ended").isLessThan(6);
        assertThat(hq.storedFiles()).as("nothing stored").containsExactlyInAnyOrderElementsOf(before);
        assertThat(call("hq-sw1", Credentials.switchToken("hq-sw1"), "callId=slow-2&from=5551201&to=1708&state=NO_ANSWER").statusCode())
                .as("a client that sends its request promptly is served").isEqualTo(201);
    }

    @Test
    void nothingOfARequestComesBackInTheHeadersOfItsAnswer() throws Exception {
        String owner = Credentials.claim(HTTP, hq.topology.dataUrl("hq"), "1712");
        String injected = "Location=http://evil.example/&Retry-After=9999&Content-Type=text/evil&WWW-Authenticate=evil";
        List<HttpResponse<String>> answers = List.of(
                hq.send("/health?" + injected, r -> hostile(r).GET()),
                hq.send("/mailboxes/2001/messages?" + injected, r -> hostile(r).GET()), // 307 to east
                hq.send("/mailboxes/1712/messages/no-such-1?" + injected, r -> hostile(r).header("Authorization", owner).DELETE()),
                hq.send("/mailboxes/1712/mwi?" + injected, r -> hostile(r).header("Authorization", owner).GET()),
                hq.send("/mailboxes/1712/pin?" + injected, r -> hostile(r).header("Authorization", owner)
                        .PUT(HttpRequest.BodyPublishers.ofString(Credentials.OWNER_PIN))),
                hq.send("/switch/hq-sw1/calls?callId=r-1&from=1&to=1712&state=ANSWERED&" + injected,
                        r -> hostile(r).header("Authorization", Credentials.switchToken("hq-sw1")).POST(HttpRequest.BodyPublishers.noBody())));

        for (HttpResponse<String> answer : answers) {
            String where = answer.request().method() + " " + answer.uri().getPath() + " " + answer.statusCode();
            // (a 307 carries the request's own URL to its home, query and all: only a copied value would start with it)
            assertThat(answer.headers().allValues("Location")).as(where).noneMatch(v -> v.startsWith("http://evil"));
            assertThat(answer.headers().allValues("Retry-After")).as(where).noneMatch(v -> v.contains("9999"));
            assertThat(answer.headers().allValues("Content-Type")).as(where).noneMatch(v -> v.contains("evil"));
            assertThat(answer.headers().allValues("WWW-Authenticate")).as(where).noneMatch(v -> v.contains("evil"));
        }
        assertThat(answers.get(1).headers().firstValue("Location")).as("the home's own address")
                .hasValueSatisfying(v -> assertThat(v).startsWith(hq.topology.dataUrl("east") + "/mailboxes/2001/messages"));
    }

    private static HttpRequest.Builder hostile(HttpRequest.Builder request) {
        return request.header("Content-Type", "text/evil").header("Retry-After", "9999")
                .header("X-Location", "x").setHeader("Location", "http://evil.example/").header("WWW-Authenticate", "evil");
    }

    @Test
    void secretsAppearInNoLogMetricOrJolokiaAnswer() throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(hq.topology.managementUrl("hq") + "/observe/metrics"))
                        .header("Authorization", Credentials.management()).build(), HttpResponse.BodyHandlers.ofString()).body();
        String properties = HTTP.send(HttpRequest.newBuilder(URI.create(hq.topology.managementUrl("hq")
                        + "/observe/jolokia/read/org.apache.camel:context=vmesh-hq,type=services,*"))
                        .header("Authorization", Credentials.management()).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(properties).contains("\"status\":200");
        for (String secret : List.of("demo-cluster-secret-change-me", "demo-hq-sw1", "demo-pin-key-change-me", "demo-management-change-me")) {
            assertThat(metrics).doesNotContain(secret);
            assertThat(properties).doesNotContain(secret);
        }
        assertThat(call("hq-sw1", "Bearer demo-hq-sw1-wrong", CALL).body()).doesNotContain("demo-hq-sw1");
    }

    /** A valid stored (mu-law) WAV, as a peer would send it. */
    static final class AudioCodecHolder {
        static byte[] stored() {
            return new AudioCodec(300).encodeForStorage(Audio.resource("speech-03.wav")).wav();
        }
    }
}
