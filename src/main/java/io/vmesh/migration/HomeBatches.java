package io.vmesh.migration;

import io.vmesh.migration.PeerBatch.Item;
import io.vmesh.migration.PeerBatch.Outcome;

import java.io.IOException;
import java.util.ArrayList;
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
 * The first one's message opens a batch for that home; those handed in within {@code waitMs} of it,
 * up to {@code size}, join it; then the first one sends it (route {@code post-batch-to-home}) and each
 * consumer gets the home's answer for its own message, as the response code and body a single
 * {@code POST /peer/voicemail} would have got, or the request's failure when it got no answer. Its
 * route reads that answer as before, and its queue entry commits only if its own message was stored.
 *
 * <p>A batch the home refuses as a whole (400, 413, 415, 422: no single message's fault) leaves every
 * message in it waiting as if the home were away (502), never dead-lettered for it.
 */
public final class HomeBatches {

    private final int size;
    private final long waitNanos;
    private final long answerTimeoutMs;
    private final CamelContext camelContext;
    private ProducerTemplate template;
    /** Per home: the batch that is still taking messages. Its monitor also guards each batch's items. */
    private final Map<String, Batch> open = new HashMap<>();

    public HomeBatches(CamelContext camelContext, int size, long waitMs, long requestTimeoutMs) {
        if (size < 1 || size > PeerBatch.MAX_MESSAGES || waitMs < 0) {
            throw new IllegalArgumentException("vmesh.migration.batch-size must be 1 to " + PeerBatch.MAX_MESSAGES
                    + " and vmesh.migration.batch-wait-ms at least 0");
        }
        this.camelContext = camelContext;
        this.size = size;
        this.waitNanos = TimeUnit.MILLISECONDS.toNanos(waitMs);
        this.answerTimeoutMs = waitMs + requestTimeoutMs + 10_000;
    }

    private static final class Batch {
        final String homeUrl;
        final List<Item> items = new ArrayList<>();
        final Set<String> ids = new HashSet<>();
        final CompletableFuture<Map<String, Outcome>> answer = new CompletableFuture<>();
        boolean closed;

        Batch(String homeUrl) {
            this.homeUrl = homeUrl;
        }
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
        synchronized (open) {
            batch = open.get(home);
            if (batch != null && batch.ids.contains(item.messageId())) {
                close(home, batch); // the same message twice (a duplicated queue entry) goes in a batch of its own
                batch = null;
            }
            if (batch == null) {
                batch = new Batch(exchange.getVariable("homeUrl", String.class));
                open.put(home, batch);
                first = true;
            }
            batch.items.add(item);
            batch.ids.add(item.messageId());
            if (batch.items.size() >= size) {
                close(home, batch);
            }
        }
        if (first) {
            waitForOthers(home, batch);
            send(batch);
        }
        Outcome outcome = answerFor(batch, item.messageId());
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, outcome.status());
        exchange.getMessage().setBody(outcome.error() == null ? "" : outcome.error());
    }

    private void close(String home, Batch batch) {
        batch.closed = true;
        open.remove(home, batch);
        open.notifyAll();
    }

    private void waitForOthers(String home, Batch batch) throws InterruptedException {
        long deadline = System.nanoTime() + waitNanos;
        synchronized (open) {
            for (long left = waitNanos; !batch.closed && left > 0; left = deadline - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(open, left);
            }
            close(home, batch);
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

    private Outcome answerFor(Batch batch, String id) throws Exception {
        try {
            return batch.answer.get(answerTimeoutMs, TimeUnit.MILLISECONDS).get(id);
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            // each consumer its own exception: the same instance must not travel through several exchanges
            throw new IOException(cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
        } catch (TimeoutException e) {
            throw new IOException("no answer to the batch within " + answerTimeoutMs + " ms", e);
        }
    }

    private synchronized ProducerTemplate template() {
        if (template == null) {
            template = camelContext.createProducerTemplate();
        }
        return template;
    }
}
