package io.vmesh.migration;

import io.vmesh.migration.PeerBatch.Item;
import io.vmesh.migration.PeerBatch.Outcome;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

/**
 * The sender's half of {@code POST /peer/voicemails}: the consumers of a home's migration route each
 * hand it their message's signed request (step {@code post-in-batch} of {@code send-to-home}) and wait.
 * At most {@value #IN_FLIGHT} batches per home are on their way at once: a message handed in while
 * there is room goes at once, with those waiting; one handed in while they are all out waits for the
 * next, with the others that come meanwhile (up to {@code size}). So a lone message is sent without
 * delay, and under load each batch carries what became ready during one round trip. The consumer
 * that opened a batch sends it (route {@code post-batch-to-home}); each gets the home's answer for its
 * own message, as the response code and body a single {@code POST /peer/voicemail} would have got,
 * or the request's failure when it got no answer. Its route reads that answer as before, and its
 * queue entry commits only if its own message was stored.
 *
 * <p>A home that answers a batch 404 does not serve {@code /peer/voicemails} (an earlier version,
 * or one stopping); one that answers 400 or 415 cannot read it (an earlier version's batch format):
 * that batch's messages are retried, and for the next {@value #SINGLE_FOR_SECONDS} s the home is
 * sent one message per request ({@link #takesBatches}).
 *
 * <p>A batch the home refuses as a whole (400, 413, 415, 422: no single message's fault) leaves every
 * message in it waiting as if the home were away (502), never dead-lettered for it.
 */
public final class HomeBatches {

    /** Batches on their way to one home at once: one being answered while the next is sent. */
    static final int IN_FLIGHT = 2;
    static final long SINGLE_FOR_SECONDS = 60;
    /**
     * The most audio one batch carries (its messages' bytes together): the batch size of 5 s recordings,
     * at least four of the longest that go in batches; the body stays well under the home's limit and
     * G1's humongous objects (half a heap region) on a small heap.
     */
    static final int MAX_BATCH_AUDIO_BYTES = 1 << 20;
    /** The largest recording that goes in a batch: 128 KiB, 16 s as stored (mu-law, 8 kHz): a 5 s one does, a 30 s one goes alone. */
    static final int BATCHED_AUDIO_BYTES = 1 << 17;

    private final int size;
    private final long answerTimeoutMs;
    private final CamelContext camelContext;
    private ProducerTemplate template;
    /** Per home: its batches on their way and those waiting to go. Its monitor guards them all. */
    private final Map<String, Home> homes = new HashMap<>();
    /** Homes that answered a batch 404: until when (System.nanoTime) they are sent one message per request. */
    private final Map<String, Long> singleUntil = new java.util.concurrent.ConcurrentHashMap<>();

    public HomeBatches(CamelContext camelContext, int size, long requestTimeoutMs) {
        if (size < 1 || size > PeerBatch.MAX_MESSAGES) {
            throw new IllegalArgumentException("vmesh.migration.batch-size must be 1 to " + PeerBatch.MAX_MESSAGES);
        }
        this.camelContext = camelContext;
        this.size = size;
        this.answerTimeoutMs = IN_FLIGHT * requestTimeoutMs + 10_000;
    }

    private static final class Home {
        int inFlight;
        final Deque<Batch> waiting = new ArrayDeque<>();
    }

    private static final class Batch {
        final String home;
        final String homeUrl;
        final List<Item> items = new ArrayList<>();
        final Set<String> ids = new HashSet<>();
        long audioBytes;
        /** Completed when the batch may go: its first member sends it. */
        final CompletableFuture<Void> turn = new CompletableFuture<>();
        final CompletableFuture<Map<String, Outcome>> answer = new CompletableFuture<>();

        Batch(String home, String homeUrl) {
            this.home = home;
            this.homeUrl = homeUrl;
        }
    }

    /**
     * Whether this message for {@code home} goes in a batch (step alone-or-in-batch of send-to-home): not
     * if its audio is over {@link #BATCHED_AUDIO_BYTES}. A batch saves each message a request of its
     * own, which matters for short recordings; for long ones the bytes cost more than the request, and
     * sent alone they go as many at once as there are consumers instead of {@value #IN_FLIGHT} batches'
     * worth (with 30 s recordings in batches, a concurrent record-and-migrate run lost a fifth of its rate).
     */
    public boolean goesInBatch(@org.apache.camel.Variable("home") String home, @org.apache.camel.Body byte[] audio) {
        return (audio == null || audio.length <= BATCHED_AUDIO_BYTES) && takesBatches(home);
    }

    /** Whether messages for {@code home} go in batches: batches on, and no 404, 400 or 415 to a batch lately. */
    private boolean takesBatches(String home) {
        Long until = singleUntil.get(home);
        if (until != null && System.nanoTime() - until >= 0) {
            singleUntil.remove(home, until);
            until = null;
        }
        return size > 1 && until == null;
    }

    /**
     * Sends the exchange's signed request (headers and audio as {@code send-to-home} made them) in a
     * batch to the home {@code home} at {@code homeUrl}, and sets the answer for this message on the
     * exchange: {@code CamelHttpResponseCode} and the error, if any, as the body. Throws what the
     * request failed with if it got no answer.
     */
    public void post(Exchange exchange) throws Exception {
        String home = exchange.getVariable("home", String.class);
        Item item = PeerBatch.itemOf(exchange.getMessage());
        Batch batch;
        boolean first = false;
        synchronized (homes) {
            Home h = homes.computeIfAbsent(home, k -> new Home());
            batch = h.waiting.peekLast();
            // the same message twice (a duplicated queue entry) goes in another batch
            if (batch == null || batch.items.size() >= size || batch.ids.contains(item.messageId())
                    || batch.audioBytes + item.audio().length > MAX_BATCH_AUDIO_BYTES) {
                batch = new Batch(home, exchange.getVariable("homeUrl", String.class));
                h.waiting.addLast(batch);
                first = true;
            }
            batch.items.add(item);
            batch.ids.add(item.messageId());
            batch.audioBytes += item.audio().length;
            startNext(h);
        }
        if (first) {
            try {
                await(batch.turn);
            } catch (Exception notItsTurn) { // interrupted (stopping), or the batches before it never came back
                synchronized (homes) {
                    Home h = homes.get(home);
                    if (!h.waiting.remove(batch)) { // its turn came meanwhile: the room is given back
                        h.inFlight--;
                        startNext(h);
                    }
                }
                batch.answer.completeExceptionally(notItsTurn);
                throw notItsTurn;
            }
            try {
                send(batch);
            } finally {
                synchronized (homes) {
                    Home h = homes.get(home);
                    h.inFlight--;
                    startNext(h);
                }
            }
        }
        Outcome outcome = await(batch.answer).get(item.messageId());
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, outcome.status());
        exchange.getMessage().setBody(outcome.error() == null ? "" : outcome.error());
    }

    /** Lets the oldest waiting batch go if there is room; called holding the monitor of {@link #homes}. */
    private static void startNext(Home h) {
        if (h.inFlight < IN_FLIGHT && !h.waiting.isEmpty()) {
            h.inFlight++;
            h.waiting.pollFirst().turn.complete(null);
        }
    }

    private <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(answerTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            // each consumer its own exception: the same instance must not travel through several exchanges
            throw new IOException(cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
        } catch (TimeoutException e) {
            throw new IOException("no answer to the batch within " + answerTimeoutMs + " ms", e);
        }
    }

    /** Posts the batch and completes its answer: the outcome of each message, or the failure. */
    private void send(Batch batch) {
        try {
            byte[] body = PeerBatch.write(batch.items);
            Exchange answered = template().send("direct:post-batch-to-home", request -> {
                request.setVariable("homeUrl", batch.homeUrl);
                request.getMessage().setBody(body);
            });
            if (answered.getException() != null) {
                batch.answer.completeExceptionally(answered.getException());
                return;
            }
            Integer status = answered.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
            int code = status == null ? 502 : status;
            if (code == 404 || code == 400 || code == 415) {
                singleUntil.put(batch.home, System.nanoTime() + TimeUnit.SECONDS.toNanos(SINGLE_FOR_SECONDS));
            }
            Map<String, Outcome> outcomes = code >= 200 && code < 300
                    ? PeerBatch.outcomes(answered.getMessage().getBody(byte[].class)) : new HashMap<>();
            String answer = answered.getMessage().getBody(String.class);
            for (String id : batch.ids) {
                if (code < 200 || code >= 300) {
                    outcomes.put(id, wholeBatch(id, code, answer));
                } else {
                    outcomes.putIfAbsent(id, new Outcome(id, 502, "the home's answer to the batch said nothing of " + id));
                }
            }
            batch.answer.complete(outcomes);
        } catch (Exception | Error e) {
            batch.answer.completeExceptionally(e);
        }
    }

    /** Every message's outcome when the home answered the batch as a whole. */
    private static Outcome wholeBatch(String id, int status, String answer) {
        if (status == 400 || status == 413 || status == 415 || status == 422) {
            return new Outcome(id, 502, "the home refused the batch as a whole (" + status + ": " + answer + ")");
        }
        return new Outcome(id, status, answer);
    }

    private synchronized ProducerTemplate template() {
        if (template == null) {
            template = camelContext.createProducerTemplate();
        }
        return template;
    }
}
