package io.vmesh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The SIP trunk with Debian's baresip as the PBX: it calls an extension through hq with a switch's
 * digest credentials, plays speech, hangs up; the message is in the home mailbox with that speech.
 */
class SipTrunkTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double SPEECH_SECONDS = 3.0;

    @TempDir
    static Path dir;
    static TestTopology topology;
    static SiteServer hq;
    static SiteServer west;
    static Path speech;
    static short[] speechSamples;

    @BeforeAll
    static void start() throws Exception {
        topology = new TestTopology(dir.resolve("config"));
        // subscriptions of a few seconds, so that one expires within a test
        topology.siteProperties("hq", "vmesh.sip.subscription.min-seconds = 1\n");
        // a short greeting keeps each call to seconds; the shipped one is tested on its own
        topology.shortGreeting();
        hq = new SiteServer(topology, "hq", dir.resolve("hq")).start();
        west = new SiteServer(topology, "west", dir.resolve("west")).start();
        speech = dir.resolve("speech.wav");
        speechSamples = firstSeconds(Audio.resource("speech-02.wav"), SPEECH_SECONDS, speech);
    }

    @AfterAll
    static void stop() {
        if (west != null) {
            west.close();
        }
        if (hq != null) {
            hq.close();
        }
    }

    @Test
    void baresipCallIsRecordedIntoTheLocalHomeMailboxWithTheSpeechItPlayed() throws Exception {
        String ext = "1300";
        try (Baresip pbx = new Baresip(dir.resolve("call-local"), "sip:" + ext + "@" + topology.sipAddress("hq"), "hq-sw1", "demo-hq-sw1", speech)) {
            pbx.start(Duration.ofSeconds(5), "/dial sip:" + ext + "@" + topology.sipAddress("hq"));
            pbx.awaitExit(Duration.ofSeconds(30));
            JsonNode messages = await().atMost(Duration.ofSeconds(20)).until(() -> JSON.readTree(hq.get("/mailboxes/" + ext + "/messages").body()),
                    list -> list.size() == 1);
            JsonNode message = messages.get(0);
            assertThat(message.get("switchId").asText()).isEqualTo("hq-sw1");
            assertThat(message.get("recordedBy").asText()).isEqualTo("hq");
            byte[] audio = hq.getBytes("/mailboxes/" + ext + "/messages/" + message.get("id").asText() + "/audio").body();
            double snr = bestAlignedSnrDb(speechSamples, Audio.pcmSamples(audio));
            System.out.printf("SIP call recorded: %d ms, SNR %.1f dB against the speech baresip played%n", message.get("durationMs").asLong(), snr);
            assertThat(snr).isGreaterThan(25);
        }
    }

    @Test
    void baresipCallOverTcpForAnExtensionOfAnotherServerReachesItsHomeMailboxByMigration() throws Exception {
        String ext = "3001";
        try (Baresip pbx = new Baresip(dir.resolve("call-remote"), "sip:" + ext + "@" + topology.sipAddress("hq"), "hq-sw2", "demo-hq-sw2", speech)) {
            pbx.start(Duration.ofSeconds(4), "/dial sip:" + ext + "@" + topology.sipAddress("hq") + ";transport=tcp"); // SIP over TCP
            pbx.awaitExit(Duration.ofSeconds(30));
            JsonNode messages = await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(west.get("/mailboxes/" + ext + "/messages").body()),
                    list -> list.size() == 1);
            JsonNode message = messages.get(0);
            assertThat(message.get("recordedBy").asText()).isEqualTo("hq");
            byte[] audio = west.getBytes("/mailboxes/" + ext + "/messages/" + message.get("id").asText() + "/audio").body();
            assertThat(bestAlignedSnrDb(speechSamples, Audio.pcmSamples(audio))).isGreaterThan(25);
        }
    }

    @Test
    void baresipMwiReportsWaitingMessagesAndNoneOnceHeardOrDeleted() throws Exception {
        String ext = "1310";
        try (Baresip phone = new Baresip(dir.resolve("mwi"), "sip:" + ext + "@" + topology.sipAddress("hq"), "hq-sw1", "demo-hq-sw1", speech, true)
                .startSubscribed(Duration.ofSeconds(60))) {
            await().atMost(ShippedIntervals.indicatorWithin()).untilAsserted(() -> assertThat(phone.output()).contains("Voice-Message: 0/0"));

            String id = JSON.readTree(hq.postCall("hq-sw1", "callId=mwi-1&from=5550100&to=" + ext + "&state=NO_ANSWER",
                    Audio.resource("speech-03.wav")).body()).get("messageId").asText();
            await().atMost(ShippedIntervals.indicatorWithin()).until(() -> after(phone.output(), "Voice-Message: 0/0").contains("Messages-Waiting: yes"));
            assertThat(after(phone.output(), "Voice-Message: 0/0")).contains("Voice-Message: 1/0");

            assertThat(hq.post("/mailboxes/" + ext + "/messages/" + id + "/heard").statusCode()).isEqualTo(200);
            await().atMost(ShippedIntervals.indicatorWithin()).until(() -> after(phone.output(), "Voice-Message: 1/0").contains("Voice-Message: 0/1"));
            assertThat(after(phone.output(), "Voice-Message: 1/0")).contains("Messages-Waiting: no");

            assertThat(hq.delete("/mailboxes/" + ext + "/messages/" + id).statusCode()).isEqualTo(204);
            await().atMost(ShippedIntervals.indicatorWithin()).until(() -> after(phone.output(), "Voice-Message: 0/1").contains("Voice-Message: 0/0"));
        }
    }

    @Test
    void messageSummarySubscriptionForAnExtensionHomedElsewhereIsRedirectedToItsHome() {
        String hqSip = topology.sipAddress("hq");
        Sipsak.Result moved = Sipsak.send(dir, Sipsak.subscribe("3002", hqSip, "message-summary", 600), "sip:3002@" + hqSip, "hq-sw1", "demo-hq-sw1");

        // sipsak follows the 302 to the Contact it names: west, the home of 3002
        assertThat(moved.output()).contains("received redirect").contains("SUBSCRIBE sip:3002@" + topology.sipAddress("west") + " SIP/2.0");
        Sipsak.Result badEvent = Sipsak.send(dir, Sipsak.subscribe("1311", hqSip, "presence", 600), "sip:1311@" + hqSip, "hq-sw1", "demo-hq-sw1");
        assertThat(badEvent.lastStatus()).startsWith("SIP/2.0 489");
    }

    @Test
    void messageSummarySubscriptionIsRefreshedAndEndsWithATerminatedNotifyWhenItExpires() throws Exception {
        String ext = "1312";
        String[] hostPort = topology.sipAddress("hq").split(":");
        try (RawSubscriber phone = new RawSubscriber(new java.net.InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), ext)) {
            assertThat(phone.subscribe(2, "hq-sw1", "demo-hq-sw1")).startsWith("SIP/2.0 200").contains("Expires: 2");
            String first = phone.awaitNotify("Subscription-State: active", 5000);
            assertThat(first).contains("Voice-Message: 0/0").contains("Content-Type: application/simple-message-summary");
            assertThat(first.lines().filter(l -> l.regionMatches(true, 0, "Contact:", 0, 8) || l.startsWith("m:")))
                    .as("a NOTIFY has one Contact, the mailbox's").containsExactly("Contact: <sip:" + ext + "@" + topology.sipAddress("hq") + ">");

            assertThat(phone.subscribe(3, "hq-sw1", "demo-hq-sw1")).startsWith("SIP/2.0 200").contains("Expires: 3");
            phone.awaitNotify("Subscription-State: active", 5000);
            long refreshed = System.nanoTime();

            String last = phone.awaitNotify("terminated", 10_000);
            assertThat(last).contains("reason=timeout").contains("Messages-Waiting: no");
            assertThat(Duration.ofNanos(System.nanoTime() - refreshed)).isGreaterThan(Duration.ofMillis(2500));
        }
    }

    private static String after(String text, String marker) {
        int at = text.indexOf(marker);
        return at < 0 ? "" : text.substring(at + marker.length());
    }

    @Test
    void optionsIsAnswered200WithoutCredentials() {
        Sipsak.Result result = Sipsak.run("-s", "sip:vmesh@" + topology.sipAddress("hq"));

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.lastStatus()).isEqualTo("SIP/2.0 200 OK");
    }

    @Test
    void inviteRefusalsCarryTheirSipCodesAndStoreNothing() {
        String hqSip = topology.sipAddress("hq");
        int filesBefore = hq.storedFiles().size();

        assertThat(refusal(Sipsak.invite("1400", hqSip, "0 8 101"), "hq-sw1", "wrong-password")).startsWith("SIP/2.0 403");
        assertThat(refusal(Sipsak.invite("1400", hqSip, "0 8 101"), "no-such-switch", "demo-hq-sw1")).startsWith("SIP/2.0 403");
        assertThat(refusal(Sipsak.invite("4999", hqSip, "0 8 101"), "hq-sw1", "demo-hq-sw1")).startsWith("SIP/2.0 404");
        assertThat(refusal(Sipsak.invite("1999", hqSip, "0 8 101"), "hq-sw1", "demo-hq-sw1")).startsWith("SIP/2.0 480");
        assertThat(refusal(Sipsak.invite("1400", hqSip, "9 18"), "hq-sw1", "demo-hq-sw1")).startsWith("SIP/2.0 488");

        assertThat(hq.storedFiles()).hasSize(filesBefore);
        assertThat(hq.dataDir.resolve("sip-calls")).isEmptyDirectory();
    }

    @Test
    void inviteWithoutCredentialsIsChallenged() {
        Sipsak.Result result = Sipsak.send(dir, Sipsak.invite("1400", topology.sipAddress("hq"), "0 8 101"),
                "sip:1400@" + topology.sipAddress("hq"), null, null);

        // sipsak answers the challenge with no password: the 401 comes first, then the 403
        assertThat(result.output()).contains("SIP/2.0 401 Unauthorized").contains("WWW-Authenticate: Digest").contains("realm=\"vmesh\"");
        assertThat(result.lastStatus()).startsWith("SIP/2.0 403");
    }

    private static String refusal(String request, String user, String password) {
        Sipsak.Result result = Sipsak.send(dir, request, "sip:" + request.split(" ")[1].substring(4), user, password);
        return result.lastStatus();
    }

    /** The first seconds of a WAV, written as 8 kHz 16-bit PCM for baresip; their samples. */
    static short[] firstSeconds(byte[] wav, double seconds, Path target) throws Exception {
        short[] all = Audio.pcmSamples(wav);
        short[] part = java.util.Arrays.copyOf(all, (int) (seconds * 8000));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (short s : part) {
            bytes.write(s & 0xff);
            bytes.write((s >> 8) & 0xff);
        }
        AudioFormat pcm = Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000, 16, 1);
        AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(bytes.toByteArray()), pcm, part.length),
                AudioFileFormat.Type.WAVE, target.toFile());
        return part;
    }

    /**
     * SNR of the recording against the part of the reference it holds: the recording starts after
     * the greeting and the tone, so the reference is searched for the offset that matches best.
     */
    static double bestAlignedSnrDb(short[] reference, short[] recorded) {
        double best = Double.NEGATIVE_INFINITY;
        for (int offset = 0; offset < reference.length - 8000; offset++) {
            int n = Math.min(reference.length - offset, recorded.length);
            double signal = 0;
            double noise = 0;
            for (int i = 0; i < n; i++) {
                double r = reference[offset + i];
                signal += r * r;
                double d = r - recorded[i];
                noise += d * d;
                if (noise > signal && i > 800) {
                    break; // not this offset
                }
            }
            if (noise > 0 && signal > 0) {
                best = Math.max(best, 10 * Math.log10(signal / noise));
            }
        }
        return best;
    }
}
