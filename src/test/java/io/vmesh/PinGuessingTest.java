package io.vmesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * PIN guessing is slowed per client and per mailbox, and can never be turned against an owner who
 * presents the right PIN. Each test guesses from loopback addresses of its own, so that what one
 * test's client did is not counted against another's.
 */
class PinGuessingTest extends HqAlone {

    private static final int PER_MAILBOX = 3;
    private static final int PER_CLIENT = 8;
    private static final long DECAY_SECONDS = 2;

    @BeforeAll
    static void startHqWithLimits() {
        startHq("vmesh.security.mailbox.max-failures = " + PER_MAILBOX + "\nvmesh.security.client.max-failures = " + PER_CLIENT
                + "\nvmesh.security.failure-decay-seconds = " + DECAY_SECONDS + "\n");
    }

    private static FromAddress.Answer get(String from, String ext, String pin) {
        return new FromAddress(from).send(port, "GET", "/mailboxes/" + ext + "/mwi", pin == null ? null : Credentials.mailbox(ext, pin));
    }

    @Test
    void requestsWithoutCredentialsAreChallengedAndNotCounted() {
        for (int i = 0; i < 3 * PER_MAILBOX; i++) {
            FromAddress.Answer anonymous = get("127.0.2.1", "1801", null);
            assertThat(anonymous.status()).isEqualTo(401);
            assertThat(anonymous.header("WWW-Authenticate")).startsWith("Basic realm=");
        }
        assertThat(new FromAddress("127.0.2.2").send(port, "PUT", "/mailboxes/1801/pin", Credentials.mailbox("1801", "0000")).status())
                .as("the owner, from anywhere: the default PIN may set a PIN (400: the empty body is no PIN), not 429")
                .isEqualTo(400);
    }

    @Test
    void theDefaultPinOnlyLetsItsOwnerSetAPinOfTheirOwn() {
        FromAddress.Answer withDefault = get("127.0.2.3", "1802", "0000");

        assertThat(withDefault.status()).isEqualTo(403);
        assertThat(withDefault.body()).contains("still has the default PIN").contains("PUT /mailboxes/1802/pin");
        assertThat(get("127.0.2.3", "1802", Credentials.OWNER_PIN).status()).as("not yet its PIN").isEqualTo(401);
        Credentials.claim(java.net.http.HttpClient.newHttpClient(), hq.topology.dataUrl("hq"), "1802");
        assertThat(get("127.0.2.3", "1802", Credentials.OWNER_PIN).status()).isEqualTo(200);
        assertThat(get("127.0.2.3", "1802", "0000").status()).as("the default PIN is no longer this mailbox's").isEqualTo(401);
    }

    @Test
    void sixtyWrongPinsInParallelGetNoMoreChecksThanAllowed() throws Exception {
        List<Callable<Integer>> guesses = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String from = "127.0.3." + (1 + i % 50); // many clients at one mailbox: the mailbox's count holds them back
            String pin = String.format("%04d", 1000 + i);
            guesses.add(() -> get(from, "1803", pin).status());
        }
        long started = System.nanoTime();
        List<Integer> statuses = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(60);
        try {
            for (Future<Integer> status : pool.invokeAll(guesses)) {
                statuses.add(status.get());
            }
        } finally {
            pool.shutdown();
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        long checked = statuses.stream().filter(s -> s == 401).count();
        // the limit, plus what decayed while the guesses were being answered
        assertThat(checked).as("statuses " + statuses).isLessThanOrEqualTo(PER_MAILBOX + (long) Math.ceil(seconds / DECAY_SECONDS));
        assertThat(statuses).containsOnly(401, 429);
    }

    @Test
    void guessesSprayedOverManyMailboxesFromOneClientAreThrottledAndTheCountDecays() {
        List<FromAddress.Answer> answers = new ArrayList<>();
        for (int i = 0; i < 2 * PER_CLIENT; i++) {
            answers.add(get("127.0.4.1", String.valueOf(1810 + i), "1234")); // a guess at the default PIN, one per mailbox
        }

        FromAddress.Answer last = answers.get(answers.size() - 1);
        assertThat(answers.stream().map(FromAddress.Answer::status).distinct()).containsExactlyInAnyOrder(401, 429);
        assertThat(last.status()).isEqualTo(429);
        assertThat(Long.parseLong(last.header("Retry-After"))).isBetween(1L, PER_CLIENT * DECAY_SECONDS);
        assertThat(get("127.0.4.2", "1811", "1234").status()).as("another client is not held back").isEqualTo(401);
        // one failure is forgotten per decay period: the client is checked again, not locked for good
        await().atMost(Duration.ofSeconds(4 * DECAY_SECONDS)).pollInterval(Duration.ofMillis(250))
                .until(() -> get("127.0.4.1", "1899", "9999").status() == 401);
    }

    @Test
    void guessesAtAMailboxDoNotLockOutItsOwner() {
        String owner = Credentials.claim(java.net.http.HttpClient.newHttpClient(), hq.topology.dataUrl("hq"), "1804");
        assertThat(new FromAddress("127.0.5.1").send(port, "GET", "/mailboxes/1804/mwi", owner).status()).isEqualTo(200);

        List<Integer> attacker = new ArrayList<>();
        for (int i = 0; i < 4 * PER_MAILBOX; i++) {
            attacker.add(get("127.0.5." + (2 + i), "1804", String.format("%04d", i)).status());
        }

        assertThat(attacker).contains(429);
        assertThat(new FromAddress("127.0.5.1").send(port, "GET", "/mailboxes/1804/mwi", owner).status())
                .as("the owner, from where they opened the mailbox before, with the right PIN").isEqualTo(200);
    }

    @Test
    void aWrongPinTakesAsLongOnADefaultPinMailboxAsOnOneWithItsOwnPin() {
        int samples = 9;
        var http = java.net.http.HttpClient.newHttpClient();
        for (int i = 0; i < samples; i++) {
            Credentials.claim(http, hq.topology.dataUrl("hq"), String.valueOf(1840 + i));
        }
        long[] onDefault = new long[samples];
        long[] onOwn = new long[samples];
        for (int i = 0; i < samples; i++) { // interleaved: the machine's load falls on both alike
            long t0 = System.nanoTime();
            assertThat(get("127.0.6." + (1 + i), String.valueOf(1830 + i), "97531").status()).isEqualTo(401);
            long t1 = System.nanoTime();
            assertThat(get("127.0.7." + (1 + i), String.valueOf(1840 + i), "97531").status()).isEqualTo(401);
            onDefault[i] = t1 - t0;
            onOwn[i] = System.nanoTime() - t1;
        }
        double medianDefault = median(onDefault);
        double medianOwn = median(onOwn);

        // before: 5-15 ms against 65-116 ms. A factor of 3 either way is far outside what equal work varies by
        assertThat(Math.max(medianDefault, medianOwn) / Math.min(medianDefault, medianOwn))
                .as("median ms: default PIN %.1f, own PIN %.1f", medianDefault / 1e6, medianOwn / 1e6).isLessThan(3.0);
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
