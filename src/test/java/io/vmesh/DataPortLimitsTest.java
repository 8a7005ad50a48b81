package io.vmesh;

import io.vmesh.migration.PeerIntake;
import io.vmesh.security.PeerAuthentication;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The data port's memory cannot be exhausted: unauthenticated bodies are refused on their head, and
 * connections and bytes in flight are capped (503 and Retry-After beyond), idle connections closed.
 */
class DataPortLimitsTest extends HqAlone {

    private static final int MAX_CONNECTIONS = 6;
    private static final int LARGEST_BODY = 600_000;
    private static final long IDLE_TIMEOUT_MS = 1000;
    private static final long READ_TIMEOUT_MS = 20_000;

    @BeforeAll
    static void startHqWithLimits() {
        startHq("vmesh.http.max-connections = " + MAX_CONNECTIONS + "\nvmesh.http.max-bytes-in-flight = 1000000\n"
                + "camel.rest.endpoint-properties.chunkedMaxContentLength = " + LARGEST_BODY + "\n"
                + "vmesh.http.idle-timeout-ms = " + IDLE_TIMEOUT_MS + "\nvmesh.http.request-read-timeout-ms = " + READ_TIMEOUT_MS + "\n");
    }

    /** Opens a connection and sends a request's head (and nothing of its body). */
    private static Socket head(String requestLine, String... headers) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        StringBuilder head = new StringBuilder(requestLine).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String header : headers) {
            head.append(header).append("\r\n");
        }
        socket.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    private static String answer(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder text = new StringBuilder();
        byte[] buffer = new byte[4096];
        for (int n; (n = in.read(buffer)) > 0; ) {
            text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0 && text.indexOf("}", end) > 0) {
                break; // a whole JSON answer: the server may keep reading, the test need not
            }
        }
        return text.toString();
    }

    @Test
    void unauthenticatedCallsAndMigrationsAreRefusedOnTheirHeadBeforeTheBodyIsSent() throws Exception {
        List<java.nio.file.Path> storedBefore = hq.storedFiles(); // by the other tests of this class
        String[][] requests = {
                {"POST /switch/hq-sw1/calls?callId=h-1&from=1&to=1900&state=BUSY"},
                {"POST /switch/hq-sw1/calls?callId=h-2&from=1&to=1900&state=BUSY", "Authorization: Bearer wrong"},
                {"POST /switch/rogue/calls?callId=h-3&from=1&to=1900&state=BUSY", "Authorization: Bearer demo-rogue"},
                {"POST /peer/voicemail", PeerIntake.MESSAGE_ID + ": east-h-1"},
                {"POST /peer/voicemail", PeerAuthentication.PEER + ": east", PeerAuthentication.TIMESTAMP + ": "
                + System.currentTimeMillis(), PeerAuthentication.SIGNATURE + ": " + "00".repeat(32)},
                {"PUT /mailboxes/1900/pin"},
        };
        for (String[] request : requests) {
            List<String> headers = new ArrayList<>(List.of(request).subList(1, request.length));
            headers.add("Content-Length: 8388608"); // announced, never sent: the answer must not wait for it
            try (Socket socket = head(request[0], headers.toArray(String[]::new))) {
                String answer = answer(socket);
                assertThat(answer).as(request[0]).matches("(?s)HTTP/1.1 4(01|13) .*\\{\"error\":.*");
                assertThat(answer).contains("connection: close");
            }
        }
        assertThat(hq.storedFiles()).isEqualTo(storedBefore);
    }

    @Test
    void connectionsBeyondTheCapAreAnswered503WithRetryAfter() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i <= MAX_CONNECTIONS; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(10_000);
                held.add(socket);
            }
            // the last one is over the cap, or an earlier one if another connection was open meanwhile
            await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> held.stream().anyMatch(DataPortLimitsTest::hasData));
            String refused = answer(held.stream().filter(DataPortLimitsTest::hasData).findFirst().orElseThrow());
            assertThat(refused).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 1").contains("connections open");
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
        await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> hq.get("/health").statusCode() == 200);
    }

    private static boolean hasData(Socket socket) {
        try {
            return socket.getInputStream().available() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void bytesInFlightBeyondTheCapAreAnswered503WithRetryAfter() throws Exception {
        String call = "POST /switch/hq-sw1/calls?callId=f-%d&from=1&to=1901&state=NO_ANSWER";
        try (Socket first = head(String.format(call, 1), "Authorization: " + Credentials.switchToken("hq-sw1"),
                "Content-Length: " + LARGEST_BODY)) {
            first.getOutputStream().write(new byte[1000]); // and holds the rest
            await().atMost(ShippedIntervals.LOAD_SLACK).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                try (Socket second = head(String.format(call, 2), "Authorization: " + Credentials.switchToken("hq-sw1"),
                        "Content-Length: " + LARGEST_BODY)) {
                    assertThat(answer(second)).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 1");
                }
            });
        }
        await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> hq.postCall("hq-sw1", "callId=f-3&from=1&to=1901&state=NO_ANSWER",
                Audio.resource("speech-03.wav")).statusCode() == 201);
    }

    /** Reads the server's answer up to the end of its head: a {@code 100 Continue} has no body. */
    private static String interimAnswer(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder text = new StringBuilder();
        for (int b; text.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0; ) {
            text.append((char) b);
        }
        return text.toString();
    }

    @Test
    void bodiesAwaitedAfterA100ContinueStillCountAgainstTheBytesInFlight() throws Exception {
        String call = "POST /switch/hq-sw1/calls?callId=c-%d&from=1&to=1902&state=NO_ANSWER";
        try (Socket first = head(String.format(call, 1), "Authorization: " + Credentials.switchToken("hq-sw1"),
                "Content-Length: " + LARGEST_BODY, "Expect: 100-continue")) {
            assertThat(interimAnswer(first)).startsWith("HTTP/1.1 100 Continue");
            // the first body is awaited: it holds its bytes though the server has written to it
            await().atMost(ShippedIntervals.LOAD_SLACK).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                first.getOutputStream().write(new byte[100]); // and stays busy, not idle
                try (Socket second = head(String.format(call, 2), "Authorization: " + Credentials.switchToken("hq-sw1"),
                        "Content-Length: " + LARGEST_BODY, "Expect: 100-continue")) {
                    assertThat(interimAnswer(second)).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 1");
                }
            });
        }
        await().atMost(ShippedIntervals.LOAD_SLACK).until(() -> hq.postCall("hq-sw1", "callId=c-3&from=1&to=1902&state=NO_ANSWER",
                Audio.resource("speech-03.wav")).statusCode() == 201);
    }

    @Test
    void aClientThatStopsSendingItsBodyAfterA100ContinueIsDisconnectedWhenIdle() throws Exception {
        try (Socket socket = head("POST /switch/hq-sw1/calls?callId=c-4&from=1&to=1903&state=NO_ANSWER",
                "Authorization: " + Credentials.switchToken("hq-sw1"), "Content-Length: " + LARGEST_BODY,
                "Expect: 100-continue")) {
            socket.setSoTimeout((int) (2 * READ_TIMEOUT_MS));
            assertThat(interimAnswer(socket)).startsWith("HTTP/1.1 100 Continue");
            socket.getOutputStream().write(new byte[1000]); // part of the body, then nothing more
            long started = System.nanoTime();
            socket.getInputStream().readAllBytes(); // returns when the server closes

            assertThat((System.nanoTime() - started) / 1e6).as("closed by the idle timeout, well before the read timeout")
                    .isBetween(IDLE_TIMEOUT_MS / 2.0, READ_TIMEOUT_MS / 2.0);
        }
        assertThat(hq.storedFiles()).noneMatch(file -> file.toString().contains("1903"));
    }

    @Test
    void anIdleKeptAliveConnectionIsClosed() throws Exception {
        try (Socket socket = head("GET /health")) {
            long started = System.nanoTime();
            String all = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // returns when the server closes

            assertThat(all).startsWith("HTTP/1.1 200");
            assertThat((System.nanoTime() - started) / 1e9).as("closed after the 1 s idle timeout").isLessThan(8);
        }
    }
}
