package io.vmesh.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.vmesh.Credentials;

/** 16 switch clients (java.net.http, HTTP/1.1) posting unanswered calls with a recording to one server. */
final class LoadClient {

    /** One call answered 201: when it was sent (epoch ms), how long the answer took, and the message id. */
    record Sent(String messageId, String extension, long sentAtMs, long latencyNanos) {
    }

    record Run(List<Sent> sent, long startNanos, long endNanos, long startMs, int retried429, int retried503, int retriedErrors) {
        double seconds() {
            return (endNanos - startNanos) / 1e9;
        }
    }

    private static final Pattern MESSAGE_ID = Pattern.compile("\"messageId\":\"([^\"]+)\"");
    // the switches of hq in the shipped topology, each with its demo bearer token
    private static final String[] SWITCHES = {"hq-sw1", "hq-sw2", "branch-sw1", "branch-sw2"};
    private static final AtomicLong CALL_IDS = new AtomicLong();

    private final int clients;
    private final HttpClient http;
    private final ExecutorService pool;

    LoadClient(int clients) {
        this.clients = clients;
        this.pool = Executors.newFixedThreadPool(clients);
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).executor(Executors.newFixedThreadPool(4)).build();
    }

    /** Posts {@code count} calls for extensions {@code firstExtension + i % 50}; returns once every call has its 201. */
    Run post(String url, int count, int firstExtension, byte[] wav) throws Exception {
        return post(url, count, firstExtension, wav, 0);
    }

    /** As fast as the server answers ({@code perSecond} 0), or paced: call i starts i / perSecond seconds in. */
    Run post(String url, int count, int firstExtension, byte[] wav, double perSecond) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger r429 = new AtomicInteger();
        AtomicInteger r503 = new AtomicInteger();
        AtomicInteger rErr = new AtomicInteger();
        List<Future<List<Sent>>> futures = new ArrayList<>();
        long startMs = System.currentTimeMillis();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            futures.add(pool.submit(() -> {
                List<Sent> mine = new ArrayList<>();
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    if (perSecond > 0) {
                        long due = start + (long) (i * 1e9 / perSecond);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                    mine.add(call(url, SWITCHES[i % SWITCHES.length], String.valueOf(firstExtension + i % 50), wav, r429, r503, rErr));
                }
                return mine;
            }));
        }
        List<Sent> all = new ArrayList<>();
        for (Future<List<Sent>> f : futures) {
            all.addAll(f.get());
        }
        return new Run(all, start, System.nanoTime(), startMs, r429.get(), r503.get(), rErr.get());
    }

    private Sent call(String url, String switchId, String extension, byte[] wav, AtomicInteger r429, AtomicInteger r503,
                      AtomicInteger rErr)
            throws Exception {
        long n = CALL_IDS.incrementAndGet();
        String callId = "bench-" + n;
        // every recording differs from the others in its first samples, as real ones do: identical audio
        // signed in the same millisecond gets identical peer signatures, which vmesh refuses as a replay
        // (see docs/performance.md)
        // (3 bits of the call number in each of the first 8 samples, loud enough to survive mu-law)
        byte[] body = wav.clone();
        for (int k = 0; k < 8; k++) {
            short sample = (short) ((((n >>> (3 * k)) & 7) - 4) * 4000);
            body[44 + 2 * k] = (byte) sample;
            body[45 + 2 * k] = (byte) (sample >> 8);
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/switch/" + switchId + "/calls?callId=" + callId
                        + "&from=5551234&to=" + extension + "&state=NO_ANSWER"))
                .timeout(Duration.ofSeconds(120))
                .header("Authorization", Credentials.switchToken(switchId))
                .header("Content-Type", "audio/wav")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        long firstTry = System.nanoTime();
        for (int attempt = 0; ; attempt++) {
            long sentAtMs = System.currentTimeMillis();
            long t0 = System.nanoTime();
            String failure;
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                long latency = System.nanoTime() - t0;
                if (r.statusCode() == 201) {
                    Matcher m = MESSAGE_ID.matcher(r.body());
                    if (!m.find()) {
                        throw new IllegalStateException("201 without a message id: " + r.body());
                    }
                    return new Sent(m.group(1), extension, sentAtMs, latency);
                }
                if (r.statusCode() == 429) {
                    r429.incrementAndGet();
                    Thread.sleep(20);
                    continue;
                }
                if (r.statusCode() == 503 && r.headers().firstValue("Retry-After").isPresent()
                        && System.nanoTime() - firstTry < TimeUnit.SECONDS.toNanos(120)) {
                    // the data port's cap on bytes in flight: a switch keeps the recording and sends it again
                    r503.incrementAndGet();
                    Thread.sleep(100);
                    continue;
                }
                failure = r.statusCode() + " " + r.body();
            } catch (java.io.IOException e) {
                // a refused upload's connection is closed while its body is still being sent (the data port's
                // cap on bytes in flight): the switch keeps the recording and sends it again, as for a 503
                failure = e.toString();
                if (System.nanoTime() - firstTry < TimeUnit.SECONDS.toNanos(120)) {
                    rErr.incrementAndGet();
                    Thread.sleep(200);
                    continue;
                }
            }
            rErr.incrementAndGet();
            if (attempt >= 5) {
                throw new IllegalStateException("call " + callId + " failed 6 times, last: " + failure);
            }
            Thread.sleep(200);
        }
    }

    void shutdown() {
        pool.shutdownNow();
    }
}
