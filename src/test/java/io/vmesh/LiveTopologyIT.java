package io.vmesh;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A company of 500 sites, three of them running as real processes: a server's cost does not grow with
 * the sites it could send to, and every server follows a changed topology.yaml without a restart,
 * taking the messages already waiting for a moved range to their new home.
 */
class LiveTopologyIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** vmesh.topology.check-interval (2 s), the read lock (the file a second old, checked every 0.5 s) and a retry's back-off, with room for a loaded machine. */
    private static final Duration LIVE_CHANGE = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    @RegisterExtension
    final VmeshProcesses processes = new VmeshProcesses();

    private VmeshProcess start(TestTopology t, String site) throws IOException {
        return processes.server(t, site, dir).start();
    }

    private static String record(TestTopology t, String ext) throws Exception {
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl("hq") + "/switch/hq-sw1/calls?callId=l-"
                        + System.nanoTime() + "&from=5550900&to=" + ext + "&state=NO_ANSWER"))
                .header("Authorization", Credentials.switchToken("hq-sw1"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-03.wav"))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).get("messageId").asText();
    }

    private static List<String> mailbox(TestTopology t, String home, String ext) throws Exception {
        String path = "/mailboxes/" + ext + "/messages";
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl(home) + path))
                .header("Authorization", Credentials.claim(HTTP, t.dataUrl(home), ext)).build(), HttpResponse.BodyHandlers.ofString()).body())
                .findValuesAsText("id");
    }

    private static JsonNode migrations(TestTopology t) throws Exception {
        return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(t.dataUrl("hq") + "/migrations")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private static long threads(VmeshProcess p) throws IOException {
        return Files.readAllLines(Path.of("/proc", String.valueOf(p.pid()), "status")).stream()
                .filter(l -> l.startsWith("Threads:")).mapToLong(l -> Long.parseLong(l.substring(8).trim())).findFirst().orElseThrow();
    }

    @Test
    void aCompanyOf500SitesFollowsItsTopologyFileLiveAndWaitingMessagesFollowTheirRange() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        LargeTopology company = new LargeTopology(t, 500);
        VmeshProcess hq = start(t, "hq");
        VmeshProcess east = start(t, "east");
        if (Files.isDirectory(Path.of("/proc"))) {
            // 499 peers, none with messages waiting: no migration consumer at all
            assertThat(threads(hq)).as("threads of an idle server in a 500-server topology").isLessThan(150);
        }

        // a backlog for several homes: west and site-007 are down, east is up and gets its own at once
        String site7 = LargeTopology.siteId(7);
        String site7Extension = String.valueOf(LargeTopology.firstExtension(7) + 1);
        List<String> forWest = new ArrayList<>();
        List<String> forSite7 = new ArrayList<>();
        List<String> forEast = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            forWest.add(record(t, "3100"));
            forSite7.add(record(t, site7Extension));
            forEast.add(record(t, "2100"));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> mailbox(t, "east", "2100").size() == forEast.size());
        assertThat(mailbox(t, "east", "2100")).containsExactlyInAnyOrderElementsOf(forEast);
        assertThat(migrations(t).get("west").get("pending").asInt()).isEqualTo(3);
        assertThat(migrations(t).get(site7).get("pending").asInt()).isEqualTo(3);

        // a file with an error, and one without hq: each refused with one log line, the topology in force stays
        company.writeRaw("servers:\n  - id: hq\n    url: [this is not\n");
        await().atMost(LIVE_CHANGE).until(() -> Files.readString(hq.log).contains("Refused the changed"));
        company.write(); // the topology in force again, then the same without hq
        company.writeRaw(Files.readString(t.configDir.resolve("topology.yaml"))
                .replace("id: hq\n", "id: hq-old\n").replace("home: hq\n", "home: hq-old\n"));
        await().atMost(LIVE_CHANGE).until(() -> Files.readString(hq.log).contains("has no server 'hq'"));
        assertThat(Files.readString(hq.log).lines().filter(l -> l.contains("Refused the changed")).count()).isEqualTo(2);
        assertThat(mailbox(t, "east", "2101")).isEmpty();
        String afterRefusal = record(t, "2101"); // hq still answers from the topology in force
        // east took the file without hq (it has east): until the file names hq again, east refuses hq's peer requests
        company.write();
        await().atMost(LIVE_CHANGE).until(() -> mailbox(t, "east", "2101").contains(afterRefusal));

        // live: a new server north takes site-007's range, part of west's range moves to east, site-500 leaves
        company.addServer("north")
                .home(LargeTopology.firstExtension(7) + "-" + (LargeTopology.firstExtension(7) + 99), "north")
                .home("3100-3199", "east")
                .removeServer(LargeTopology.siteId(500))
                .write();
        long changed = System.nanoTime();
        await().atMost(LIVE_CHANGE).until(() -> mailbox(t, "east", "3100").size() == forWest.size());
        System.out.println("west's waiting messages were in east's mailbox "
                + Duration.ofNanos(System.nanoTime() - changed).toMillis() + " ms after topology.yaml changed");
        assertThat(mailbox(t, "east", "3100")).containsExactlyInAnyOrderElementsOf(forWest);

        VmeshProcess north = start(t, "north");
        long northUp = System.nanoTime();
        String afterChange = record(t, site7Extension);
        forSite7.add(afterChange);
        await().atMost(LIVE_CHANGE).until(() -> mailbox(t, "north", site7Extension).size() == forSite7.size());
        System.out.println("site-007's waiting messages were in the new server north's mailbox "
                + Duration.ofNanos(System.nanoTime() - northUp).toMillis() + " ms after north was up");
        assertThat(mailbox(t, "north", site7Extension)).containsExactlyInAnyOrderElementsOf(forSite7);

        JsonNode backlog = migrations(t);
        assertThat(backlog.get("west").get("pending").asInt()).isZero();
        assertThat(backlog.get(site7).get("pending").asInt()).isZero();
        assertThat(backlog.get("north").get("delivered").asInt()).isEqualTo(forSite7.size());
        assertThat(backlog.has(LargeTopology.siteId(500))).as("a removed server leaves /migrations").isFalse();
        Path deadLetter = dir.resolve("data-hq/dead-letter");
        assertThat(Files.exists(deadLetter) ? Files.list(deadLetter).toList() : List.of()).as("dead-lettered").isEmpty();
        assertThat(Files.list(dir.resolve("data-hq/spool")).toList()).isEmpty();
        assertThat(Files.readString(hq.log)).contains("Topology changed").doesNotContain("Exception in thread");
        assertThat(north.isHealthy()).isTrue();
    }
}
