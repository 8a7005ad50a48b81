package io.vmesh;

import io.vmesh.tools.SwitchSimulator;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The switch simulator against a real site server in this JVM (each test calls its own extensions)
 * and against stub data ports where a test needs a server that fails or must see every request.
 */
class SwitchSimulatorTest extends OneSiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String hqUrl() {
        return hq.topology.dataUrl("hq");
    }

    private static SwitchSimulator.Result run(String... args) {
        return SwitchSimulator.run(SwitchSimulator.Options.parse(args));
    }

    /** The message ids in the mailboxes of extensions first..last on hq, as their owners list them. */
    private static List<String> mailboxIds(int first, int last) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int ext = first; ext <= last; ext++) {
            ids.addAll(JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body()).findValuesAsText("id"));
        }
        return ids;
    }

    @Test
    void everyCallIsAcceptedAndEachVoicemailLandsInItsMailbox() throws Exception {
        SwitchSimulator.Result result = run("--server", hqUrl(), "--calls", "40", "--rate", "20",
                "--extensions", "1500-1519", "--answered", "0.25", "--seconds", "3", "--seed", "5");

        assertThat(result.sent()).isEqualTo(40);
        assertThat(result.accepted()).isEqualTo(40);
        assertThat(result.voicemails()).isEqualTo(30);
        assertThat(result.rejected() + result.failed() + result.failovers()).isZero();
        assertThat(result.allAccepted()).isTrue();
        assertThat(result.messages()).hasSize(30).allSatisfy(m -> {
            assertThat(m.home()).isEqualTo("hq");
            assertThat(m.delivery()).isEqualTo("LOCAL");
            assertThat(Integer.parseInt(m.extension())).isBetween(1500, 1519);
        });
        assertThat(mailboxIds(1500, 1519))
                .containsExactlyInAnyOrderElementsOf(result.messages().stream().map(SwitchSimulator.Voicemail::messageId).toList());
        // the synthetic recordings were accepted whole: 3 s each
        JsonNode box = JSON.readTree(hq.get("/mailboxes/" + result.messages().get(0).extension() + "/messages").body());
        assertThat(box.findValuesAsText("durationMs")).containsOnly("3000");
        assertThat(result.latency().p50()).isPositive().isLessThanOrEqualTo(result.latency().p90());
        assertThat(result.latency().p99()).isLessThanOrEqualTo(result.latency().max());
    }

    @Test
    void whenTheFirstServerDoesNotAnswerEveryCallFailsOverToTheNext() throws Exception {
        String closed = "http://127.0.0.1:" + TestTopology.freePort();

        SwitchSimulator.Result result = run("--server", closed + "," + hqUrl(), "--calls", "20", "--rate", "20",
                "--extensions", "1600-1609", "--seconds", "2");

        assertThat(result.accepted()).isEqualTo(20);
        assertThat(result.failovers()).isEqualTo(20);
        assertThat(result.failed()).isZero();
        assertThat(result.problems()).singleElement().asString().contains(closed).contains("ConnectException");
        assertThat(result.messages()).allSatisfy(m -> assertThat(m.recordedBy().toString()).isEqualTo(hqUrl()));
        assertThat(mailboxIds(1600, 1609)).hasSize(result.voicemails());
    }

    @Test
    void aServerAnswering503MakesTheSwitchTryTheNextServer() {
        try (StubDataPort unavailable = new StubDataPort(503); StubDataPort next = new StubDataPort(0)) {
            SwitchSimulator.Result result = run("--server", unavailable.url() + "," + next.url(), "--calls", "10",
                    "--rate", "50", "--seconds", "1");

            assertThat(result.accepted()).isEqualTo(10);
            assertThat(result.failovers()).isEqualTo(10);
            assertThat(unavailable.calls).hasSize(10);
            assertThat(next.calls).hasSize(10);
            assertThat(result.problems()).singleElement().asString().contains("answered 503");
        }
    }

    @Test
    void aRejectedCallIsCountedAndNotTriedOnAnotherServer() {
        try (StubDataPort backup = new StubDataPort(0)) {
            SwitchSimulator.Result result = run("--server", hqUrl() + "," + backup.url(), "--calls", "10", "--rate", "50",
                    "--extensions", "5000-5009", "--answered", "0", "--seconds", "1");

            assertThat(result.rejected()).isEqualTo(10);
            assertThat(result.accepted() + result.failed() + result.failovers()).isZero();
            assertThat(result.allAccepted()).isFalse();
            assertThat(backup.calls).isEmpty();
            assertThat(result.problems()).allSatisfy(p -> assertThat(p).contains("404").contains("not in the directory"));
        }
    }

    @Test
    void aCallNoServerTakesIsCountedAsFailed() {
        String first = "http://127.0.0.1:" + TestTopology.freePort();
        String second = "http://127.0.0.1:" + TestTopology.freePort();

        SwitchSimulator.Result result = run("--server", first + "," + second, "--calls", "5", "--rate", "50", "--seconds", "1");

        assertThat(result.failed()).isEqualTo(5);
        assertThat(result.failovers()).isEqualTo(5); // first to second, once per call; no server after the second
        assertThat(result.accepted() + result.rejected()).isZero();
    }

    @Test
    void theAnsweredShareIsRespectedAndTheOtherCallsGoToVoicemailWithARecording() {
        try (StubDataPort server = new StubDataPort(0)) {
            SwitchSimulator.Result result = run("--server", server.url().toString(), "--calls", "200", "--rate", "400",
                    "--extensions", "2000-2999", "--answered", "0.3", "--seconds", "2", "--switch", "east-sw1");

            List<StubDataPort.Received> answered = server.calls.stream()
                    .filter(c -> c.query().get("state").equals("ANSWERED")).toList();
            assertThat(answered.size() / 200.0).isCloseTo(0.3, within(0.05));
            assertThat(result.answered()).isEqualTo(answered.size());
            assertThat(result.voicemails()).isEqualTo(200 - answered.size());
            assertThat(answered).allSatisfy(c -> assertThat(c.bodyBytes()).isZero());
            assertThat(server.calls).filteredOn(c -> !answered.contains(c)).allSatisfy(c -> {
                assertThat(c.query().get("state")).isIn(SwitchSimulator.VOICEMAIL_STATES);
                assertThat(c.bodyBytes()).isEqualTo(44 + 2 * 8000 * 2); // a WAV header and 2 s of 16-bit samples
            });
            assertThat(server.calls).allSatisfy(c -> {
                assertThat(c.switchId()).isEqualTo("east-sw1");
                assertThat(Integer.parseInt(c.query().get("to"))).isBetween(2000, 2999);
            });
            // uniform over the range: every tenth of it gets some calls
            assertThat(server.calls.stream().map(c -> (Integer.parseInt(c.query().get("to")) - 2000) / 100).distinct())
                    .hasSize(10);
            assertThat(server.calls.stream().map(c -> c.query().get("state")).distinct()).hasSize(5);
        }
    }

    @Test
    void theSameSeedPlacesTheSameCalls() {
        List<String> first;
        List<String> second;
        try (StubDataPort server = new StubDataPort(0)) {
            run("--server", server.url().toString(), "--calls", "30", "--rate", "300", "--seconds", "1", "--seed", "9");
            first = plan(server);
        }
        try (StubDataPort server = new StubDataPort(0)) {
            run("--server", server.url().toString(), "--calls", "30", "--rate", "300", "--seconds", "1", "--seed", "9");
            second = plan(server);
        }
        assertThat(second).isEqualTo(first);
    }

    /** What was called, in the order of the calls: from, to, state. */
    private static List<String> plan(StubDataPort server) {
        return server.calls.stream()
                .sorted(Comparator.comparingInt(c -> Integer.parseInt(c.query().get("callId").replaceAll(".*-", ""))))
                .map(c -> c.query().get("from") + ">" + c.query().get("to") + ":" + c.query().get("state"))
                .collect(Collectors.toList());
    }

    @Test
    void callsArePlacedAtTheRequestedRate() {
        try (StubDataPort server = new StubDataPort(0)) {
            SwitchSimulator.Result result = run("--server", server.url().toString(), "--calls", "30", "--rate", "15",
                    "--seconds", "1");

            assertThat(result.elapsed().toMillis()).isGreaterThanOrEqualTo(29 * 1000 / 15); // the 30th call at 29/15 s
            assertThat(result.achievedRate()).isBetween(10.0, 15.5);
        }
    }

    @Test
    void commandLineShowsPlainProgressLinesThenTheSummaryAndExitsZeroWhenEveryCallIsAccepted() {
        try (StubDataPort server = new StubDataPort(0)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int exit = SwitchSimulator.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, false,
                    "--server", server.url().toString(), "--calls", "25", "--rate", "10", "--seconds", "1");

            String output = out.toString(StandardCharsets.UTF_8);
            assertThat(exit).isZero();
            assertThat(output).doesNotContain("\r");
            assertThat(output.lines().filter(l -> l.startsWith("[")).count()).as(output).isGreaterThanOrEqualTo(2);
            assertThat(output).contains("[####################] 25/25 sent  25 accepted  0 rejected  0 failed  0 failovers")
                    .containsPattern("sent +25 ")
                    .containsPattern("accepted +25 ")
                    .containsPattern("rejected +0 ")
                    .containsPattern("failed +0 ")
                    .containsPattern("failovers +0")
                    .containsPattern("latency ms +p50 [0-9.]+ +p90 [0-9.]+ +p99 [0-9.]+ +max [0-9.]+")
                    .containsPattern("rate +[0-9.]+ calls/s achieved");
        }
    }

    @Test
    void onATerminalTheProgressLineIsRewrittenInPlace() {
        try (StubDataPort server = new StubDataPort(0)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SwitchSimulator.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, true,
                    "--server", server.url().toString(), "--calls", "10", "--rate", "10", "--seconds", "1");

            String output = out.toString(StandardCharsets.UTF_8);
            assertThat(output.split("\r\\[", -1).length - 1).as(output).isGreaterThanOrEqualTo(3);
            assertThat(output).contains("\r[####################] 10/10 sent");
        }
    }

    @Test
    void commandLineExitsOneWhenACallIsNotAcceptedAndTwoOnABadOption() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        String closed = "http://127.0.0.1:" + TestTopology.freePort();

        assertThat(SwitchSimulator.commandLine(quiet, quiet, false, "--server", closed, "--calls", "2", "--rate", "20",
                "--seconds", "1")).isEqualTo(1);
        assertThat(SwitchSimulator.commandLine(quiet, new PrintStream(err, true, StandardCharsets.UTF_8), false,
                "--server", closed, "--rate", "fast")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--rate takes a number, got 'fast'").contains("(see vmesh switch --help)");
    }
}
