package io.vmesh;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The memory attack of issue 11 against the packaged server at -Xmx512m: 120 connections without a
 * token, each sending 8 MB and holding on. The server stays up and answers genuine requests in time.
 */
class HostileClientsIT {

    private static final int ATTACKERS = 120;
    private static final int BODY = 8 * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void oneHundredTwentyUnauthenticated8MbBodiesNeitherExhaustMemoryNorDelayGenuineRequests() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        int port = topology.dataPorts.get("hq");
        ConcurrentLinkedQueue<Socket> held = new ConcurrentLinkedQueue<>();
        ExecutorService attackers = Executors.newFixedThreadPool(ATTACKERS);
        try (VmeshProcess hq = new VmeshProcess(topology, "hq", dir.resolve("data"))
                .withJvmOptions(List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")).start()) {
            CountDownLatch sending = new CountDownLatch(ATTACKERS);
            for (int i = 0; i < ATTACKERS; i++) {
                int n = i;
                attackers.submit(() -> {
                    byte[] chunk = new byte[64 * 1024];
                    try {
                        Socket socket = new Socket("127.0.0.1", port);
                        held.add(socket); // held open to the end of the test
                        OutputStream out = socket.getOutputStream();
                        out.write(("POST /switch/hq-sw1/calls?callId=attack-" + n + "&from=1&to=1000&state=NO_ANSWER HTTP/1.1\r\n"
                                + "Host: 127.0.0.1\r\nContent-Length: " + BODY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        sending.countDown();
                        for (int sent = 0; sent < BODY; sent += chunk.length) {
                            out.write(chunk);
                        }
                    } catch (Exception refused) {
                        sending.countDown(); // cut off by the server: what it should do
                    }
                    return null;
                });
            }
            assertThat(sending.await(30, TimeUnit.SECONDS)).isTrue();

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long started = System.nanoTime();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq") + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> call = http.send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq")
                            + "/switch/hq-sw1/calls?callId=genuine-1&from=5550100&to=1000&state=NO_ANSWER"))
                    .header("Authorization", Credentials.switchToken("hq-sw1")).timeout(Duration.ofSeconds(2))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-03.wav"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            double seconds = (System.nanoTime() - started) / 1e9;

            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(call.statusCode()).as(call.body()).isEqualTo(201);
            assertThat(seconds).as("both answered within 2 s").isLessThan(4);
            assertThat(Files.readString(hq.log)).doesNotContain("OutOfMemoryError");
        } finally {
            attackers.shutdownNow();
            for (Socket socket : held) {
                socket.close();
            }
        }
    }
}
