package io.vmesh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import javax.sound.sampled.AudioFormat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A server killed with -9 while baresip's caller is speaking: at restart the recording it had on disk
 * becomes a message in the mailbox, with the speech up to the moment of the crash.
 */
class SipCrashIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void recordingOfACallCutByAKilledServerBecomesAMessageAtRestart() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config")).shortGreeting();
        short[] reference = SipTrunkTest.firstSeconds(Audio.resource("speech-01.wav"), 10, speech());
        String ext = "1320";
        Path calls = dir.resolve("hq").resolve("sip-calls");
        try (VmeshProcess hq = new VmeshProcess(topology, "hq", dir.resolve("hq")).start();
             Baresip pbx = dialHq(topology, ext)) {
            // 3 s of the caller's audio on disk (mu-law: 8,000 bytes a second), then the crash
            await().atMost(Duration.ofSeconds(20)).until(() -> partialBytes(calls) > 24_000);
            hq.kill9();

            hq.start();
            JsonNode messages = await().atMost(Duration.ofSeconds(30)).until(
                    () -> JSON.readTree(new String(get(topology, "/mailboxes/" + ext + "/messages"))), list -> list.size() == 1);
            JsonNode message = messages.get(0);
            assertThat(message.get("durationMs").asLong()).isGreaterThanOrEqualTo(3000);
            byte[] audio = get(topology, "/mailboxes/" + ext + "/messages/" + message.get("id").asText() + "/audio");
            double snr = SipTrunkTest.bestAlignedSnrDb(reference, Audio.pcmSamples(audio));
            System.out.printf("Recovered after kill -9: %d ms, SNR %.1f dB%n", message.get("durationMs").asLong(), snr);
            assertThat(snr).isGreaterThan(25);
            try (Stream<Path> left = Files.list(calls)) {
                assertThat(left).isEmpty();
            }
        }
    }

    @Test
    void callInProgressWhenTheServerStopsBecomesAMessageAtTheNextStart() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config")).shortGreeting();
        short[] reference = SipTrunkTest.firstSeconds(Audio.resource("speech-01.wav"), 10, speech());
        String ext = "1321";
        Path calls = dir.resolve("hq").resolve("sip-calls");
        SiteServer hq = new SiteServer(topology, "hq", dir.resolve("hq")).start();
        try (Baresip pbx = dialHq(topology, ext)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> partialBytes(calls) > 16_000);
            hq.close(); // a polite stop: vmesh hangs up, the recording stays on disk

            hq = new SiteServer(topology, "hq", dir.resolve("hq")).start();
            SiteServer started = hq;
            JsonNode messages = await().atMost(Duration.ofSeconds(30)).until(
                    () -> JSON.readTree(started.get("/mailboxes/" + ext + "/messages").body()), list -> list.size() == 1);
            byte[] audio = hq.getBytes("/mailboxes/" + ext + "/messages/" + messages.get(0).get("id").asText() + "/audio").body();
            assertThat(SipTrunkTest.bestAlignedSnrDb(reference, Audio.pcmSamples(audio))).isGreaterThan(25);
            try (Stream<Path> left = Files.list(calls)) {
                assertThat(left).isEmpty();
            }
        } finally {
            hq.close();
        }
    }

    @Test
    void recordingStoredJustBeforeACrashIsNotStoredTwiceAtRestart() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config-twice"));
        String ext = "1322";
        String key = System.currentTimeMillis() + "-" + java.util.UUID.randomUUID();
        Path calls = Files.createDirectories(dir.resolve("twice").resolve("sip-calls"));
        byte[] metadata = JSON.writeValueAsBytes(java.util.Map.of("key", key, "to", ext, "from", "5550100", "switchId", "hq-sw1",
                "callId", "crash-window-1@pbx", "state", "NO_ANSWER", "startedAt", java.time.Instant.now().toString()));
        byte[] audio = Audio.wav(Audio.format(AudioFormat.Encoding.ULAW, 8000, 8, 1), 2.0);
        Files.write(calls.resolve(key + ".json"), metadata);
        Files.write(calls.resolve(key + ".partial"), audio);
        SiteServer hq = new SiteServer(topology, "hq", dir.resolve("twice")).start();
        try {
            SiteServer first = hq;
            await().atMost(Duration.ofSeconds(30)).until(
                    () -> JSON.readTree(first.get("/mailboxes/" + ext + "/messages").body()).size() == 1);
            await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> isEmpty(calls));
            hq.close();
            // the crash came after the message was durable and before the call's files were removed
            Files.write(calls.resolve(key + ".json"), metadata);
            Files.write(calls.resolve(key + ".partial"), audio);

            hq = new SiteServer(topology, "hq", dir.resolve("twice")).start();
            await().atMost(Duration.ofSeconds(30)).until(() -> isEmpty(calls));

            assertThat(JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body())).hasSize(1);
        } finally {
            hq.close();
        }
    }

    private Path speech() {
        return dir.resolve("speech.wav");
    }

    /** A baresip switch (hq-sw1) calling {@code ext} at hq, speaking {@link #speech()} for up to 15 s. */
    private Baresip dialHq(TestTopology topology, String ext) {
        return new Baresip(dir.resolve("pbx"), "sip:" + ext + "@" + topology.sipAddress("hq"), "hq-sw1", "demo-hq-sw1", speech())
                .start(Duration.ofSeconds(15), "/dial sip:" + ext + "@" + topology.sipAddress("hq"));
    }

    private static boolean isEmpty(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.findAny().isEmpty();
        }
    }

    private static byte[] get(TestTopology topology, String path) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String owner = Credentials.claim(http, topology.dataUrl("hq"), Credentials.extensionOf(path));
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(topology.dataUrl("hq") + path))
                .header("Authorization", owner).timeout(Duration.ofSeconds(10)).build();
        return http.send(request, java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body();
    }

    private static long partialBytes(Path calls) throws Exception {
        if (!Files.isDirectory(calls)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(calls)) {
            return files.filter(f -> f.toString().endsWith(".partial")).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
