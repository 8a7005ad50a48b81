package io.vmesh;

import io.vmesh.storage.Spool;
import io.vmesh.storage.VoicemailMessage;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What is on disk and on the broker survives a restart, and a restart finishes what a crash interrupted. */
class RestartRecoveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A busy call for {@code to} answered 201; its message id. */
    private static String busyCall(SiteServer hq, String callId, String to) throws java.io.IOException {
        var created = hq.postCall("hq-sw1", "callId=" + callId + "&from=1&to=" + to + "&state=BUSY", Audio.resource("speech-03.wav"));
        assertThat(created.statusCode()).as(callId).isEqualTo(201);
        return JSON.readTree(created.body()).get("messageId").asText();
    }

    /** What this JVM's file descriptors point to (Linux); empty elsewhere. */
    private static java.util.List<Path> openFiles() throws java.io.IOException {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return java.util.List.of();
        }
        try (var links = Files.list(fds)) {
            return links.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd);
                } catch (java.io.IOException closedMeanwhile) {
                    return fd;
                }
            }).toList();
        }
    }

    @Test
    void messageForARemoteHomeIsStillSpooledAndQueuedAfterARestart() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        String id;
        try (SiteServer hq = new SiteServer(topology, "hq", dir.resolve("data")).start()) {
            var created = hq.postCall("hq-sw1", "callId=restart-1&from=5550500&to=2500&state=NO_ANSWER",
                    Audio.resource("speech-01.wav"));
            assertThat(created.statusCode()).isEqualTo(201);
            id = JSON.readTree(created.body()).get("messageId").asText();
        }
        assertThat(openFiles()).as("files this JVM still has open after the server stopped")
                .doesNotContain(dir.resolve("data/queued-ids.txt").toRealPath());

        try (SiteServer hq = new SiteServer(topology, "hq", dir.resolve("data")).start()) {
            assertThat(hq.dataDir.resolve("spool/" + id + ".wav")).exists();
            assertThat(hq.dataDir.resolve("spool/" + id + ".json")).exists();
            // recovery ran at start-up and did not queue the message a second time
            await().untilAsserted(() -> assertThat(hq.context().getRouteController()
                    .getRouteStatus("spool-recovery").isStarted()).isTrue());
            assertThat(Jms.queuedMessageIds(hq.brokerUrl(), "vmesh.migration.hq.east")).containsExactly(id);
        }
    }

    @Test
    void startUpFinishesWhatACrashInterrupted() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("data");
        String local;
        String remote;
        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            local = busyCall(hq, "crash-1", "1700");
            remote = busyCall(hq, "crash-2", "3700");
        }
        // as if the process had died: after recording, before moving into the mailbox ...
        Files.move(data.resolve("mailboxes/1700/" + local + ".wav"), data.resolve("spool/" + local + ".wav"));
        Files.move(data.resolve("mailboxes/1700/" + local + ".json"), data.resolve("spool/" + local + ".json"));
        // ... and after recording, before queueing; plus a recording cut off mid-write
        Files.copy(data.resolve("spool/" + remote + ".wav"), data.resolve("spool/hq-orphan.wav"));
        Files.write(data.resolve("spool/.part-hq-cut.wav"), new byte[] {1, 2, 3});
        // ... and a message from a peer cut off while it was written into its mailbox (never answered 201)
        Files.write(data.resolve("mailboxes/1700/.part-west-cut.wav.5f3a"), new byte[] {1, 2, 3});
        String unqueued = "hq-unqueued";
        Files.copy(data.resolve("spool/" + remote + ".wav"), data.resolve("spool/" + unqueued + ".wav"));
        Files.writeString(data.resolve("spool/" + unqueued + ".json"),
                Files.readString(data.resolve("spool/" + remote + ".json")).replace(remote, unqueued));

        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            await().untilAsserted(() -> {
                assertThat(data.resolve("mailboxes/1700/" + local + ".json")).exists();
                assertThat(Jms.queuedMessageIds(hq.brokerUrl(), "vmesh.migration.hq.west"))
                        .containsExactlyInAnyOrder(remote, unqueued);
            });
            assertThat(data.resolve("spool/" + local + ".json")).doesNotExist();
            // what start-up found on the queue, and what it queued
            await().untilAsserted(() -> assertThat(Files.readAllLines(data.resolve("queued-ids.txt")))
                    .containsExactlyInAnyOrder(remote, unqueued));
            assertThat(data.resolve("spool/hq-orphan.wav")).doesNotExist();
            assertThat(data.resolve("spool/.part-hq-cut.wav")).doesNotExist();
            assertThat(data.resolve("mailboxes/1700/.part-west-cut.wav.5f3a")).doesNotExist();
            assertThat(data.resolve("spool/" + remote + ".wav")).exists();
            assertThat(JSON.readTree(hq.get("/mailboxes/1700/messages").body()).findValuesAsText("id")).containsExactly(local);
        }
    }

    @Test
    void callsTakenWhileStartUpRecoversTheSpoolAreLeftToTheirOwnRequests() throws Exception {
        Path spoolDir = dir.resolve("data/spool");
        Files.createDirectories(spoolDir);
        // left by a process killed mid-recording, and one killed after recording, before queueing
        Files.write(spoolDir.resolve("hq-cut.wav"), new byte[] {1, 2, 3});
        Files.write(spoolDir.resolve(".part-hq-cut.json"), new byte[] {1, 2, 3});
        spool(spoolDir, "hq-unqueued");
        Spool spool = new Spool("hq", dir.resolve("data"), id -> false);
        try {
            // calls taken once the data port is up, before route spool-recovery ran: one recorded up to its
            // audio, one whose JSON is written and which its own request is about to queue
            Files.write(spoolDir.resolve("hq-recording.wav"), new byte[] {1, 2, 3});
            Files.write(spoolDir.resolve(".part-hq-recording.json"), new byte[] {1, 2, 3});
            spool(spoolDir, "hq-recorded");

            assertThat(spool.removeIncompleteRecordings()).isEqualTo(2);
            assertThat(spool.unfinished()).extracting(VoicemailMessage::id).containsExactly("hq-unqueued");
            assertThat(spoolDir.resolve("hq-cut.wav")).doesNotExist();
            assertThat(spoolDir.resolve(".part-hq-cut.json")).doesNotExist();
            assertThat(spoolDir.resolve("hq-recording.wav")).exists();
            assertThat(spoolDir.resolve(".part-hq-recording.json")).exists();
            assertThat(spoolDir.resolve("hq-recorded.wav")).exists();
        } finally {
            spool.close();
        }
    }

    /** A message recorded into the spool, as step record-voicemail leaves it. */
    private static void spool(Path spoolDir, String id) throws java.io.IOException {
        Files.write(spoolDir.resolve(id + ".wav"), new byte[] {1, 2, 3});
        Files.writeString(spoolDir.resolve(id + ".json"), JSON.writeValueAsString(new VoicemailMessage(id, "call-" + id,
                "5550100", "3700", "hq-sw1", "hq", java.time.Instant.now().toString(), 1000, null, "00", false)));
    }

    @Test
    void messageWaitingCountAfterARestartCountsTheUnheardMessagesOnDisk() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("data");
        String heard;
        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            heard = busyCall(hq, "mwi-1", "1701");
            busyCall(hq, "mwi-2", "1701");
            busyCall(hq, "mwi-3", "1701");
            assertThat(hq.post("/mailboxes/1701/messages/" + heard + "/heard").statusCode()).isEqualTo(200);
        }

        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            assertThat(JSON.readTree(hq.get("/mailboxes/1701/mwi").body()).get("waiting").asInt()).isEqualTo(2);
            busyCall(hq, "mwi-4", "1701");
            assertThat(JSON.readTree(hq.get("/mailboxes/1701/mwi").body()).get("waiting").asInt()).isEqualTo(3);
            assertThat(hq.delete("/mailboxes/1701/messages/" + heard).statusCode()).isEqualTo(204);
            assertThat(JSON.readTree(hq.get("/mailboxes/1701/mwi").body()).get("waiting").asInt()).isEqualTo(3);
        }
    }

    @Test
    void queuedMessageWhoseExtensionLeftTheDirectoryWhileTheServerWasDownIsDeadLetteredAfterItStarts() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("data");
        String id;
        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            id = busyCall(hq, "left-1", "3800"); // on west's queue, west down
        }
        // the spool no longer counts it for any home: only its queue on the broker says a consumer is needed
        Path file = topology.configDir.resolve("topology.yaml");
        Files.writeString(file, Files.readString(file).replace("range: 3000-3999", "range: 3000-3099"));

        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            await().untilAsserted(() -> assertThat(data.resolve("dead-letter/" + id + ".json")).exists());
            assertThat(JSON.readTree(data.resolve("dead-letter/" + id + ".json").toFile()).get("reason").asText())
                    .isEqualTo("extension 3800 is not in the directory");
        }
    }

    @Test
    void spooledMessageWhoseExtensionLeftTheDirectoryIsDeadLetteredAtStartUp() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("data");
        String id;
        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            id = busyCall(hq, "gone-1", "3800");
        }
        // as if it was recorded for an extension the directory no longer has, and never queued
        Files.writeString(data.resolve("spool/" + id + ".json"),
                Files.readString(data.resolve("spool/" + id + ".json")).replace("\"3800\"", "\"9800\""));
        Files.writeString(data.resolve("queued-ids.txt"), Files.readString(data.resolve("queued-ids.txt")).replace(id + "\n", ""));

        try (SiteServer hq = new SiteServer(topology, "hq", data).start()) {
            await().untilAsserted(() -> assertThat(data.resolve("dead-letter/" + id + ".json")).exists());
            assertThat(data.resolve("spool/" + id + ".json")).doesNotExist();
            assertThat(data.resolve("dead-letter/" + id + ".wav")).exists();
            assertThat(JSON.readTree(data.resolve("dead-letter/" + id + ".json").toFile()).get("reason").asText())
                    .isEqualTo("extension 9800 is not in the directory");
        }
    }
}
