package io.vmesh;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Recordings, their metadata, PIN hashes and the management login are for the server's user alone: files 0600, their
 * directories 0700, whatever the umask. Checked on disk after every way a message is written: recorded
 * into the spool, delivered from it into a local mailbox, received from a peer, archived as sent,
 * and a PIN set by its owner.
 */
class PrivateFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void messagesAndPinHashesAreReadableByTheServersUserAlone() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        try (SiteServer hq = new SiteServer(topology, "hq", dir.resolve("hq")).start()) {
            String spooled = call(hq, "private-1", "2100"); // east is down: it stays in hq's spool
            call(hq, "private-2", "1100"); // homed on hq: delivered from the spool into its mailbox
            var pinSet = hq.send("/mailboxes/1100/pin", r -> r.header("Authorization", Credentials.mailbox("1100", Credentials.DEFAULT_PIN))
                    .PUT(HttpRequest.BodyPublishers.ofString("4711")));
            assertThat(pinSet.statusCode()).isEqualTo(204);
            assertThat(hq.dataDir.resolve("spool/" + spooled + ".wav")).exists();
            assertPrivate(hq.dataDir);
            assertThat(Path.of(hq.managementUsersFile())).as("the management login, not left in a shared temporary directory")
                    .isEqualTo(hq.dataDir.resolve("management-users.properties"));

            try (SiteServer east = new SiteServer(topology, "east", dir.resolve("east")).start()) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> Files.exists(hq.dataDir.resolve("sent/" + spooled + ".json")));
                assertThat(east.dataDir.resolve("mailboxes/2100/" + spooled + ".wav")).exists();
                assertPrivate(east.dataDir);
            }
            assertPrivate(hq.dataDir);
        }
    }

    private static String call(SiteServer hq, String callId, String to) throws Exception {
        var created = hq.postCall("hq-sw1", "callId=" + callId + "&from=1&to=" + to + "&state=BUSY", Audio.resource("speech-03.wav"));
        assertThat(created.statusCode()).as(callId).isEqualTo(201);
        return JSON.readTree(created.body()).get("messageId").asText();
    }

    /**
     * The data directory 0700; under spool/, mailboxes/, sent/, dead-letter/ and pins/, directories
     * 0700 and files 0600; the management port's users file 0600.
     */
    private static void assertPrivate(Path data) throws Exception {
        assertThat(mode(data)).as(data.toString()).isEqualTo("rwx------");
        assertThat(data.resolve("management-users.properties")).exists();
        for (String part : List.of("spool", "mailboxes", "sent", "dead-letter", "pins", "management-users.properties")) {
            Path root = data.resolve(part);
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.toList()) {
                    assertThat(mode(p)).as(data.relativize(p).toString())
                            .isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
                }
            }
        }
        try (Stream<Path> walk = Files.walk(data.resolve("mailboxes"))) {
            assertThat(walk.filter(Files::isRegularFile)).as("messages in mailboxes").isNotEmpty();
        }
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
