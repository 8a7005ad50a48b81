package io.vmesh;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIP as attack surface: malformed requests, floods, a TCP peer announcing a huge body, more calls
 * than RTP ports. Each gets a clear refusal (or is dropped), memory stays bounded, nothing is stored,
 * and the trunk keeps answering. hq here has RTP ports for 2 calls, a 2 s silence timeout, a short
 * greeting and room for 2 message-summary subscriptions.
 */
class SipHardeningTest {

    @TempDir
    static Path dir;
    static TestTopology topology;
    static SiteServer hq;

    @BeforeAll
    static void start() throws Exception {
        topology = new TestTopology(dir.resolve("config"));
        // a short greeting: the silent calls below end 2 s after it
        java.nio.file.Files.write(topology.configDir.resolve("greeting.wav"),
                Audio.wav(Audio.format(javax.sound.sampled.AudioFormat.Encoding.PCM_SIGNED, 8000, 16, 1), 0.3));
        int firstPort = 2 * (TestTopology.freePort() / 2);
        topology.siteProperties("hq", "vmesh.sip.rtp-first-port = " + firstPort + "\nvmesh.sip.rtp-last-port = " + (firstPort + 3)
                + "\nvmesh.sip.silence-seconds = 2\nvmesh.sip.subscription.max-active = 2\n");
        hq = new SiteServer(topology, "hq", dir.resolve("hq")).start();
    }

    @AfterAll
    static void stop() {
        hq.close();
    }

    private static String uri(String ext) {
        return "sip:" + ext + "@" + topology.sipAddress("hq");
    }

    private static void assertStillAnswersAndStoredNothing() {
        Sipsak.Result options = Sipsak.run("-s", uri("vmesh"));
        assertThat(options.lastStatus()).as(options.output()).isEqualTo("SIP/2.0 200 OK");
        assertThat(hq.storedFiles()).isEmpty();
    }

    @Test
    void malformedRequestsAreRefusedWith400OrDropped() {
        String hqSip = topology.sipAddress("hq");
        String badCSeq = Sipsak.invite("1400", hqSip, "0 8").replace("CSeq: 1 INVITE", "CSeq: one INVITE");
        String badSdp = Sipsak.invite("1400", hqSip, "0 8").replace("m=audio 40000 RTP/AVP", "m=audio 4000x RTP/AVP");
        String badDiversion = Sipsak.invite("1400", hqSip, "0 8", "Diversion: <<<sip:1400@pbx>;;reason=");

        Sipsak.Result cseq = Sipsak.send(dir, badCSeq, uri("1400"), "hq-sw1", "demo-hq-sw1");
        assertThat(cseq.lastStatus()).as(cseq.output()).satisfiesAnyOf(s -> assertThat(s).startsWith("SIP/2.0 400"), s -> assertThat(s).isEmpty());
        Sipsak.Result sdp = Sipsak.send(dir, badSdp, uri("1400"), "hq-sw1", "demo-hq-sw1");
        assertThat(sdp.lastStatus()).as(sdp.output()).startsWith("SIP/2.0 488");
        Sipsak.Result diversion = Sipsak.send(dir, badDiversion, uri("1400"), "hq-sw1", "demo-hq-sw1");
        assertThat(diversion.lastStatus()).as(diversion.output()).startsWith("SIP/2.0 400");
        assertStillAnswersAndStoredNothing();
    }

    @Test
    void garbageAndAFloodOfUnauthenticatedInvitesOverUdpLeaveTheTrunkAnswering() throws Exception {
        String hqSip = topology.sipAddress("hq");
        int port = Integer.parseInt(hqSip.substring(hqSip.indexOf(':') + 1));
        int answered = 0;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            socket.setSoTimeout(2000);
            InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
            byte[] garbage = "\u0000\u00ffNOT SIP AT ALL\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
            socket.send(new DatagramPacket(garbage, garbage.length, server));
            for (int i = 0; i < 2000; i++) {
                String invite = Sipsak.invite("1400", hqSip, "0 8").replace("INVITE sip:", "INVITE sip:")
                        .replaceFirst("\r\n", "\r\nVia: SIP/2.0/UDP 127.0.0.1:" + socket.getLocalPort() + ";branch=z9hG4bK-flood-" + i + "\r\n");
                byte[] bytes = invite.getBytes(StandardCharsets.US_ASCII);
                socket.send(new DatagramPacket(bytes, bytes.length, server));
            }
            byte[] buffer = new byte[65535];
            Map<String, Integer> statuses = new HashMap<>();
            try {
                while (true) {
                    DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
                    socket.receive(reply);
                    String status = new String(reply.getData(), 0, Math.min(reply.getLength(), 12), StandardCharsets.US_ASCII).trim();
                    statuses.merge(status, 1, Integer::sum);
                    answered++;
                }
            } catch (SocketTimeoutException done) {
                // no more answers
            }
            // the stack answers what its queue holds and drops the rest, as UDP allows
            System.out.println("2,000 unauthenticated INVITEs over UDP: " + statuses);
            assertThat(statuses.keySet()).allMatch(s -> s.equals("SIP/2.0 401"));
        }
        assertThat(answered).isPositive();
        assertStillAnswersAndStoredNothing();
    }

    @Test
    void tcpPeerAnnouncingAHugeBodyIsCutOffWithoutTheServerHoldingIt() throws Exception {
        java.io.PrintStream console = System.err;
        java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(errors, true, StandardCharsets.UTF_8));
        try {
            hugeBodyOverTcp();
        } finally {
            System.setErr(console);
        }
        // the stack's refusal is a line in the log, not a stack trace on the console
        assertThat(errors.toString(StandardCharsets.UTF_8)).doesNotContain("Exception in thread");
        assertStillAnswersAndStoredNothing();
    }

    private static void hugeBodyOverTcp() throws Exception {
        String hqSip = topology.sipAddress("hq");
        int port = Integer.parseInt(hqSip.substring(hqSip.indexOf(':') + 1));
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            String head = Sipsak.invite("1400", hqSip, "0 8")
                    .replaceFirst("\r\n", "\r\nVia: SIP/2.0/TCP 127.0.0.1:" + socket.getLocalPort() + ";branch=z9hG4bK-huge\r\n")
                    .replaceAll("Content-Length: \\d+", "Content-Length: 2000000000");
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            long sent = 0;
            boolean cutOff = false;
            try {
                for (int i = 0; i < 256; i++) { // up to 16 MB: far more than vmesh.sip.max-message-bytes
                    out.write(chunk);
                    sent += chunk.length;
                }
            } catch (java.io.IOException closedByServer) {
                cutOff = true;
            }
            if (!cutOff) {
                InputStream in = socket.getInputStream();
                byte[] answer = new byte[4096];
                int read = in.read(answer);
                cutOff = read < 0 || new String(answer, 0, read, StandardCharsets.US_ASCII).startsWith("SIP/2.0 4");
            }
            System.out.println("TCP peer with Content-Length 2,000,000,000: cut off after " + sent / 1024 + " KiB sent");
            assertThat(cutOff).isTrue();
        }
    }

    @Test
    void callsBeyondTheRtpPortsAreRefused503WithRetryAfter() {
        String hqSip = topology.sipAddress("hq");
        // two calls that send no audio hold both RTP ports until the 2 s silence ends them
        assertThat(Sipsak.send(dir, Sipsak.invite("1401", hqSip, "0 8"), uri("1401"), "hq-sw1", "demo-hq-sw1").lastStatus()).startsWith("SIP/2.0 200");
        assertThat(Sipsak.send(dir, Sipsak.invite("1402", hqSip, "0 8"), uri("1402"), "hq-sw1", "demo-hq-sw1").lastStatus()).startsWith("SIP/2.0 200");

        Sipsak.Result third = Sipsak.send(dir, Sipsak.invite("1403", hqSip, "0 8"), uri("1403"), "hq-sw1", "demo-hq-sw1");

        assertThat(third.lastStatus()).as(third.output()).startsWith("SIP/2.0 503");
        assertThat(third.output()).contains("Retry-After: 5");
        // the silent calls end by themselves; an empty recording is no message
        await().atMost(ShippedIntervals.LOAD_SLACK).untilAsserted(() -> assertThat(hq.dataDir.resolve("sip-calls")).isEmptyDirectory());
        assertStillAnswersAndStoredNothing();
    }

    @Test
    void digestCredentialsReplayedForAnotherCallAreChallengedAndOpenNoMedia() throws Exception {
        String hqSip = topology.sipAddress("hq");
        int port = Integer.parseInt(hqSip.substring(hqSip.indexOf(':') + 1));
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            socket.setSoTimeout(10_000);
            InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
            String challenge = finalAnswer(socket, server, viaUdp(Sipsak.invite("1404", hqSip, "0 8"), socket, "unauth"));
            assertThat(challenge).startsWith("SIP/2.0 401");
            java.util.regex.Matcher nonce = java.util.regex.Pattern.compile("nonce=\"([^\"]+)\"").matcher(challenge);
            assertThat(nonce.find()).isTrue();
            String uri = "sip:1404@" + hqSip;
            String ha1 = md5("hq-sw1:vmesh:demo-hq-sw1");
            String response = md5(ha1 + ":" + nonce.group(1) + ":00000001:c0ffee:auth:" + md5("INVITE:" + uri));
            String authorization = "Authorization: Digest username=\"hq-sw1\", realm=\"vmesh\", nonce=\"" + nonce.group(1)
                    + "\", uri=\"" + uri + "\", response=\"" + response + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"";

            String genuine = finalAnswer(socket, server, viaUdp(Sipsak.invite("1404", hqSip, "0 8", authorization), socket, "genuine"));
            assertThat(genuine).startsWith("SIP/2.0 200");

            // the same credentials, copied off the wire, on a call of the attacker's whose media goes to a third address
            String replay = Sipsak.invite("1404", hqSip, "0 8", authorization).replace("IN IP4 127.0.0.1", "IN IP4 127.0.0.9");
            String replayed = finalAnswer(socket, server, viaUdp(replay, socket, "replay"));

            assertThat(replayed).as(replayed).startsWith("SIP/2.0 401");
            assertThat(replayed).contains("stale=true");
            assertThat(replayed).doesNotContain("m=audio");
        }
        // the genuine call, silent, ends by itself; an empty recording is no message
        await().atMost(ShippedIntervals.LOAD_SLACK).untilAsserted(() -> assertThat(hq.dataDir.resolve("sip-calls")).isEmptyDirectory());
        assertStillAnswersAndStoredNothing();
    }

    @Test
    void anOversizedDatagramIsLoggedInOneShortLineNotCopiedIntoTheLog() throws Exception {
        java.util.List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.apache.logging.log4j.core.LoggerContext context = (org.apache.logging.log4j.core.LoggerContext)
                org.apache.logging.log4j.LogManager.getContext(false);
        org.apache.logging.log4j.core.Appender capture = new org.apache.logging.log4j.core.appender.AbstractAppender(
                "sip-stack-capture", null, null, true, org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
            @Override
            public void append(org.apache.logging.log4j.core.LogEvent event) {
                logged.add(event.getMessage().getFormattedMessage());
            }
        };
        capture.start();
        org.apache.logging.log4j.core.Logger stackLog = context.getLogger("io.vmesh.switches.sip.SipStackLog");
        stackLog.addAppender(capture);
        try {
            String hqSip = topology.sipAddress("hq");
            int port = Integer.parseInt(hqSip.substring(hqSip.indexOf(':') + 1));
            StringBuilder vias = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                vias.append("Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-many-").append(i).append("\r\n");
            }
            byte[] datagram = ("OPTIONS " + uri("vmesh") + " SIP/2.0\r\n" + vias + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                socket.send(new DatagramPacket(datagram, datagram.length, new InetSocketAddress("127.0.0.1", port)));
            }
            await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> !logged.isEmpty());
            assertThat(logged).allSatisfy(line -> assertThat(line).hasSizeLessThan(1000).doesNotContain("\n"));
        } finally {
            stackLog.removeAppender(capture);
        }
        assertStillAnswersAndStoredNothing();
    }

    @Test
    void subscriptionsBeyondTheMaximumAreRefused503WithRetryAfter() {
        String hqSip = topology.sipAddress("hq");
        for (String ext : new String[] {"1405", "1406"}) {
            Sipsak.Result accepted = Sipsak.send(dir, Sipsak.subscribe(ext, hqSip, "message-summary", 600), uri(ext), "hq-sw1", "demo-hq-sw1");
            assertThat(accepted.lastStatus()).as(accepted.output()).startsWith("SIP/2.0 200");
        }

        Sipsak.Result third = Sipsak.send(dir, Sipsak.subscribe("1407", hqSip, "message-summary", 600), uri("1407"), "hq-sw1", "demo-hq-sw1");

        assertThat(third.lastStatus()).as(third.output()).startsWith("SIP/2.0 503");
        assertThat(third.output()).contains("Retry-After: 5");
        assertStillAnswersAndStoredNothing();
    }

    private static String viaUdp(String request, DatagramSocket socket, String branch) {
        return request.replaceFirst("\r\n", "\r\nVia: SIP/2.0/UDP 127.0.0.1:" + socket.getLocalPort() + ";branch=z9hG4bK-" + branch
                + "-" + System.nanoTime() + "\r\n");
    }

    /** Sends a request and returns its first final answer. */
    private static String finalAnswer(DatagramSocket socket, InetSocketAddress server, String request) throws Exception {
        byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
        socket.send(new DatagramPacket(bytes, bytes.length, server));
        byte[] buffer = new byte[65535];
        while (true) {
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            String answer = new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
            if (!answer.startsWith("SIP/2.0 1")) {
                return answer;
            }
        }
    }

    private static String md5(String text) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
