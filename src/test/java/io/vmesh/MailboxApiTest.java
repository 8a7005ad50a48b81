package io.vmesh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The mailbox API of docs/http-api.md: list, audio, heard, delete, MWI, and 307 to the home server. */
class MailboxApiTest extends OneSiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();


    private String leaveMessage(String ext, String from, String sample) throws Exception {
        var created = hq.postCall("hq-sw1", "callId=mb-" + from + "&from=" + from + "&to=" + ext + "&state=NO_ANSWER",
                Audio.resource(sample));
        assertThat(created.statusCode()).isEqualTo(201);
        return JSON.readTree(created.body()).get("messageId").asText();
    }

    /** The counts published for the extension, in order, until one says {@code latest} (at most 10 s). */
    private static List<Integer> countsPublishedUntil(Jms.Subscription mwi, String ext, int latest) throws Exception {
        List<Integer> published = new ArrayList<>();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!published.contains(latest) && System.nanoTime() < until) {
            String event = mwi.received.poll(100, TimeUnit.MILLISECONDS);
            if (event != null) {
                JsonNode indicator = JSON.readTree(event);
                if (indicator.get("extension").asText().equals(ext)) { // another test's mailbox may still be published
                    published.add(indicator.get("waiting").asInt());
                }
            }
        }
        return published;
    }

    private int waiting(String ext) throws Exception {
        return JSON.readTree(hq.get("/mailboxes/" + ext + "/mwi").body()).get("waiting").asInt();
    }

    @Test
    void listShowsEachMessageOldestFirstWithItsDetails() throws Exception {
        String first = leaveMessage("1600", "5550401", "speech-01.wav");
        String second = leaveMessage("1600", "5550402", "speech-02.wav");

        JsonNode list = JSON.readTree(hq.get("/mailboxes/1600/messages").body());

        assertThat(list.findValuesAsText("id")).containsExactly(first, second);
        JsonNode m = list.get(0);
        assertThat(m.get("from").asText()).isEqualTo("5550401");
        assertThat(m.get("recordedBy").asText()).isEqualTo("hq");
        assertThat(m.get("durationMs").asLong()).isBetween(10000L, 10200L);
        assertThat(m.get("heard").asBoolean()).isFalse();
        assertThat(m.get("receivedAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    }

    @Test
    void emptyMailboxListsNothingAndWaitsForNothing() throws Exception {
        assertThat(hq.get("/mailboxes/1999/messages").body()).isEqualTo("[]");
        assertThat(waiting("1999")).isZero();
    }

    @Test
    void hearingAMessageLowersTheIndicatorAndPublishesIt() throws Exception {
        String id = leaveMessage("1601", "5550403", "speech-03.wav");
        leaveMessage("1601", "5550404", "speech-03.wav");
        assertThat(waiting("1601")).isEqualTo(2);

        try (Jms.Subscription mwi = new Jms.Subscription(hq.brokerUrl(), "vmesh.mwi")) {
            var heard = hq.post("/mailboxes/1601/messages/" + id + "/heard");

            assertThat(heard.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(heard.body()).get("heard").asBoolean()).isTrue();
            assertThat(waiting("1601")).isEqualTo(1);
            // the indicator is a state: an event of the second message may still arrive first; the latest says 1
            assertThat(countsPublishedUntil(mwi, "1601", 1)).endsWith(1).allMatch(n -> n == 1 || n == 2);
        }
        JsonNode list = JSON.readTree(hq.get("/mailboxes/1601/messages").body());
        assertThat(list.get(0).get("heard").asBoolean()).isTrue();
        assertThat(list.get(1).get("heard").asBoolean()).isFalse();
    }

    @Test
    void aBurstOfMessagesForOneMailboxPublishesItsLatestCountNotAnEventPerMessage() throws Exception {
        try (Jms.Subscription mwi = new Jms.Subscription(hq.brokerUrl(), "vmesh.mwi")) {
            ExecutorService switches = Executors.newFixedThreadPool(10);
            try {
                List<Future<String>> calls = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    String from = "55507" + String.format("%02d", i);
                    calls.add(switches.submit(() -> leaveMessage("1605", from, "speech-03.wav")));
                }
                for (var call : calls) {
                    call.get(30, TimeUnit.SECONDS);
                }
            } finally {
                switches.shutdown();
            }
            List<Integer> published = countsPublishedUntil(mwi, "1605", 10);
            assertThat(published).endsWith(10);
            // a change can reach the aggregator just after a window that already counted it was published:
            // the state may be said again, never a stale count after the latest
            List<Integer> after = new ArrayList<>();
            for (String event; (event = mwi.received.poll(500, TimeUnit.MILLISECONDS)) != null; ) {
                JsonNode indicator = JSON.readTree(event);
                if (indicator.get("extension").asText().equals("1605")) {
                    after.add(indicator.get("waiting").asInt());
                }
            }
            assertThat(after).allMatch(n -> n == 10);
            assertThat(published.size() + after.size()).isLessThan(10);
        }
    }

    @Test
    void deletingAMessageRemovesItAndItsAudio() throws Exception {
        String id = leaveMessage("1602", "5550405", "speech-03.wav");

        var deleted = hq.delete("/mailboxes/1602/messages/" + id);

        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(hq.get("/mailboxes/1602/messages").body()).isEqualTo("[]");
        assertThat(hq.get("/mailboxes/1602/messages/" + id + "/audio").statusCode()).isEqualTo(404);
        assertThat(hq.dataDir.resolve("mailboxes/1602/" + id + ".wav")).doesNotExist();
        assertThat(waiting("1602")).isZero();
        assertThat(hq.delete("/mailboxes/1602/messages/" + id).statusCode()).isEqualTo(404);
    }

    @Test
    void heardPlayedAndDeletedAtOnceAMessageLeavesNothingBehindAndEveryOtherDeleteOrPlaybackIs404() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(leaveMessage("1603", "55506" + (10 + i), "speech-01.wav"));
        }
        hq.get("/mailboxes/1603/mwi"); // sets the owner's PIN
        String owner = Credentials.mailbox("1603", Credentials.OWNER_PIN);
        // each message raced from an address of its own, which has opened the mailbox before: 48
        // requests at once from one address would be held back as guessing (docs/security.md)
        List<FromAddress> phones = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            phones.add(new FromAddress("127.0.4." + (i + 1)));
            assertThat(phones.get(i).send(hq.dataPort(), "GET", "/mailboxes/1603/mwi", owner).status()).isEqualTo(200);
        }
        ExecutorService requests = Executors.newFixedThreadPool(4 * ids.size());
        try {
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(4 * ids.size());
            List<List<Future<Integer>>> answers = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                FromAddress phone = phones.get(i);
                String message = "/mailboxes/1603/messages/" + ids.get(i);
                List<Future<Integer>> four = new ArrayList<>();
                for (String[] request : new String[][] {{"POST", message + "/heard"}, {"DELETE", message}, {"DELETE", message},
                        {"GET", message + "/audio"}}) {
                    four.add(requests.submit(() -> {
                        together.await();
                        return phone.send(hq.dataPort(), request[0], request[1], owner).status();
                    }));
                }
                answers.add(four);
            }
            for (List<Future<Integer>> four : answers) {
                assertThat(four.get(0).get(60, TimeUnit.SECONDS)).as("heard: before or after its deletion").isIn(200, 404);
                assertThat(List.of(four.get(1).get(60, TimeUnit.SECONDS), four.get(2).get(60, TimeUnit.SECONDS)))
                        .as("one delete, then not found").containsExactlyInAnyOrder(204, 404);
                assertThat(four.get(3).get(60, TimeUnit.SECONDS)).as("played: before or after its deletion").isIn(200, 404);
            }
        } finally {
            requests.shutdownNow();
        }
        assertThat(hq.get("/mailboxes/1603/messages").body()).isEqualTo("[]");
        try (var left = java.nio.file.Files.list(hq.dataDir.resolve("mailboxes/1603"))) {
            assertThat(left).as("no metadata brought back without its audio").isEmpty();
        }
        assertThat(waiting("1603")).isZero();
    }

    @Test
    void mailboxOfAnExtensionHomedElsewhereRedirectsToItsHome() {
        for (String path : new String[] {"/mailboxes/2001/messages", "/mailboxes/2001/mwi",
                "/mailboxes/3001/messages/east-1/audio", "/mailboxes/3001/messages/east-1/audio?rate=16000"}) {
            var response = hq.get(path);

            assertThat(response.statusCode()).as(path).isEqualTo(307);
            String home = path.contains("/3001/") ? "west" : "east";
            assertThat(response.headers().firstValue("Location")).hasValue(hq.topology.dataUrl(home) + path);
        }
        var heard = hq.post("/mailboxes/2001/messages/east-1/heard");
        assertThat(heard.statusCode()).isEqualTo(307);
        assertThat(heard.headers().firstValue("Location")).hasValue(hq.topology.dataUrl("east") + "/mailboxes/2001/messages/east-1/heard");
    }

    @Test
    void answersCarryNoRequestHeadersBack() {
        var response = hq.get("/mailboxes/1603/messages");

        assertThat(response.headers().map().keySet()).allSatisfy(name ->
                assertThat(name.toLowerCase()).isIn("content-type", "content-length", "connection"));
    }
}
