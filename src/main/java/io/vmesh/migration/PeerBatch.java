package io.vmesh.migration;

import io.vmesh.RejectedRequest;
import io.vmesh.security.PeerAuthentication;
import io.vmesh.security.Printable;
import io.vmesh.security.Sha256;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.apache.camel.Message;
import org.apache.camel.Variable;

/**
 * The body of {@code POST /peer/voicemails}: several migrations in one request. Each message is what
 * a {@code POST /peer/voicemail} of it alone would carry (its id, SHA-256, metadata, timestamp and
 * signature, and its audio, base64), so the home takes each through {@code receive-migration} as if
 * it had come alone and answers each one's status in {@code {"messages":[...]}}.
 *
 * <pre>
 * {"messages":[{"messageId":"hq-…","sha256":"…","metadata":"{…}","timestamp":"…","signature":"…","audio":"UklGR…"}, …]}
 * </pre>
 */
public final class PeerBatch {

    /** The most messages one request carries; a larger batch is refused (400) whole. */
    public static final int MAX_MESSAGES = 64;
    public static final String PATH = "/peer/voicemails";

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /** One message of a batch, as its single request would carry it. */
    public record Item(String messageId, String sha256, String metadata, String timestamp, String signature, byte[] audio) {
    }

    /** The home's answer for one message: the status (and error) its single request would have got. */
    public record Outcome(String messageId, int status, String error) {
    }

    private record Request(List<Item> messages) {
    }

    private record Answer(List<Outcome> messages) {
    }

    // --- the sender's side ---

    public static byte[] write(List<Item> items) throws IOException {
        return JSON.writeValueAsBytes(new Request(items));
    }

    /** A message's single request (the headers the route set and signed, its audio) as an item of a batch. */
    public static Item itemOf(Message request) {
        return new Item(request.getHeader(PeerIntake.MESSAGE_ID, String.class), request.getHeader(PeerIntake.SHA256, String.class),
                request.getHeader(PeerIntake.METADATA, String.class), request.getHeader(PeerAuthentication.TIMESTAMP, String.class),
                request.getHeader(PeerAuthentication.SIGNATURE, String.class), request.getBody(byte[].class));
    }

    /** The outcomes of a 2xx answer, by message id. */
    public static Map<String, Outcome> outcomes(byte[] answer) throws IOException {
        Answer read = JSON.readValue(answer, Answer.class);
        Map<String, Outcome> byId = new java.util.HashMap<>();
        if (read != null && read.messages() != null) {
            read.messages().forEach(o -> byId.put(o.messageId(), o));
        }
        return byId;
    }

    // --- the home's side (route receive-migration-batch) ---

    /**
     * The messages of a batch, checked as a whole before any is looked at: the body is the one the
     * request's signature covers (422 otherwise), and it is {@code {"messages":[...]}} with 1 to
     * {@value #MAX_MESSAGES} messages, each with a message id and its audio, no id twice (400 otherwise).
     * What each message says (signature, metadata, checksum) is checked as it is received, on its own.
     */
    public List<Item> read(@Body byte[] body, @Header(PeerIntake.SHA256) String sha256) {
        String actual = Sha256.hex(body == null ? new byte[0] : body);
        if (!actual.equals(sha256)) {
            throw new RejectedRequest(422, "SHA-256 of the batch is " + actual + ", the sender announced " + Printable.of(sha256));
        }
        Request batch;
        try {
            batch = JSON.readValue(body, Request.class);
        } catch (IOException | RuntimeException e) {
            batch = null;
        }
        if (batch == null || batch.messages() == null) {
            throw RejectedRequest.badRequest("the body is not a batch of messages: {\"messages\":[...]}");
        }
        if (batch.messages().isEmpty() || batch.messages().size() > MAX_MESSAGES) {
            throw RejectedRequest.badRequest("a batch carries 1 to " + MAX_MESSAGES + " messages, this one " + batch.messages().size());
        }
        Set<String> ids = new HashSet<>();
        for (Item item : batch.messages()) {
            if (item == null || item.messageId() == null || item.audio() == null) {
                throw RejectedRequest.badRequest("every message of a batch has a messageId and its audio");
            }
            if (!ids.add(item.messageId())) {
                throw RejectedRequest.badRequest("message " + item.messageId() + " is twice in the batch");
            }
        }
        return batch.messages();
    }

    /**
     * Makes the exchange the message's single request from {@code peer}: the headers
     * {@code receive-migration} reads, and the audio as the body; its id is the variable
     * {@code batchMessageId}, by which {@link BatchOutcomes} answers for it.
     */
    public void asSingleRequest(@Body Item item, @Variable("peer") String peer, Message request) {
        request.getExchange().setVariable("batchMessageId", item.messageId());
        request.setHeader(PeerAuthentication.PEER, peer);
        request.setHeader(PeerAuthentication.TIMESTAMP, item.timestamp());
        request.setHeader(PeerAuthentication.SIGNATURE, item.signature());
        request.setHeader(PeerIntake.MESSAGE_ID, item.messageId());
        request.setHeader(PeerIntake.SHA256, item.sha256());
        request.setHeader(PeerIntake.METADATA, item.metadata());
        request.setHeader(Exchange.HTTP_METHOD, "POST");
        request.setHeader(Exchange.HTTP_URI, "/peer/voicemail");
        request.setHeader(Exchange.HTTP_PATH, "/peer/voicemail");
        request.setBody(item.audio());
    }

    /** The answer to the batch: each message's outcome. */
    public Map<String, List<Outcome>> answer(@Body List<Outcome> outcomes) {
        return Map.of("messages", outcomes);
    }
}
