package io.vmesh.migration;

import io.vmesh.RejectedRequest;
import io.vmesh.Vmesh;
import io.vmesh.audio.AudioCodec;
import io.vmesh.security.Printable;
import io.vmesh.security.Sha256;
import io.vmesh.storage.VoicemailMessage;
import io.vmesh.switches.CallRequests;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;

/**
 * The receiving end of a migration ({@code POST /peer/voicemail}): checks that what a peer sends is
 * a whole, intact message for an extension homed here, before anything is stored.
 */
public final class PeerIntake {

    public static final String MESSAGE_ID = "X-Vmesh-Message-Id";
    public static final String SHA256 = "X-Vmesh-Sha256";
    public static final String METADATA = "X-Vmesh-Metadata";

    private static final String FIELD = "field ";
    private static final long MAX_DURATION_MS = 24L * 3600 * 1000;
    // compiled once: String.matches compiles its pattern at every call, twice per message received
    private static final Pattern EXTENSION = Pattern.compile("[0-9]{1,15}");
    private static final Pattern SOURCE_ENCODING = Pattern.compile("[A-Za-z0-9_.-]{1,32}");

    private final String site;
    private final Directory directory;
    private final AudioCodec codec;
    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public PeerIntake(String site, Directory directory, AudioCodec codec) {
        this.site = site;
        this.directory = directory;
        this.codec = codec;
    }

    /**
     * The same checks as a switch's call gets ({@link CallRequests}): a peer holding the cluster
     * secret is trusted to deliver, not to put anything it likes into a mailbox or the log.
     */
    private static void requireFields(VoicemailMessage message) {
        CallRequests.requireCallId(FIELD + "'callId'", message.callId());
        CallRequests.requireCaller(FIELD + "'from'", message.from());
        CallRequests.requireId(FIELD + "'switchId'", message.switchId());
        CallRequests.requireId(FIELD + "'recordedBy'", message.recordedBy());
        if (message.extension() == null || !EXTENSION.matcher(message.extension()).matches()) {
            throw RejectedRequest.badRequest(FIELD + "'extension' must be digits, got '" + Printable.of(message.extension()) + "'");
        }
        try {
            Instant.parse(String.valueOf(message.receivedAt()));
        } catch (DateTimeParseException e) {
            throw RejectedRequest.badRequest(FIELD + "'receivedAt' must be an ISO-8601 instant, got '"
                    + Printable.of(message.receivedAt()) + "'");
        }
        if (message.durationMs() < 0 || message.durationMs() > MAX_DURATION_MS) {
            throw RejectedRequest.badRequest(FIELD + "'durationMs' must be 0 to " + MAX_DURATION_MS + ", got " + message.durationMs());
        }
        if (message.sourceEncoding() != null && !SOURCE_ENCODING.matcher(message.sourceEncoding()).matches()) {
            throw RejectedRequest.badRequest(FIELD + "'sourceEncoding' must be 1 to 32 letters, digits or _.-, got '"
                    + Printable.of(message.sourceEncoding()) + "'");
        }
    }

    /** The metadata for a migration as its sender puts it in {@value #METADATA}. */
    public String metadataHeader(@Body VoicemailMessage message) throws IOException {
        return json.writeValueAsString(message);
    }

    /**
     * {@link #verify} as the route receive-migration uses it: the checked message becomes the variable
     * {@code received}, and its id, extension and recording server the variables {@code messageId},
     * {@code extension} and {@code recordedBy}, which the later steps read as they are. (Simple's
     * {@code ${variable.received.id}} would call the getter through Camel's bean binding, on a copy of
     * the exchange, at each use: six times per message, and code that a just-started home compiles
     * while it drains its backlog.)
     */
    public void accept(@Header(MESSAGE_ID) String id, @Header(SHA256) String sha256, @Header(METADATA) String metadata,
                       @Body byte[] audio, Exchange exchange) {
        VoicemailMessage message = verify(id, sha256, metadata, audio);
        exchange.setVariable("received", message);
        exchange.setVariable("messageId", message.id());
        exchange.setVariable("extension", message.extension());
        exchange.setVariable("recordedBy", message.recordedBy());
    }

    public VoicemailMessage verify(@Header(MESSAGE_ID) String id, @Header(SHA256) String sha256,
                                   @Header(METADATA) String metadata, @Body byte[] audio) {
        VoicemailMessage.requireValidId(id);
        if (metadata == null || metadata.isBlank()) {
            throw RejectedRequest.badRequest("header " + METADATA + " is missing");
        }
        VoicemailMessage message;
        try {
            // from its UTF-8 bytes: Jackson's byte parser, the one the batch's list is read with (a String
            // takes its char parser too, more code for a just-started home to compile while it drains)
            message = json.readValue(metadata.getBytes(StandardCharsets.UTF_8), VoicemailMessage.class);
        } catch (IOException | RuntimeException e) {
            message = null;
        }
        if (message == null) {
            throw RejectedRequest.badRequest("header " + METADATA + " is not the message's JSON metadata");
        }
        if (!id.equals(message.id())) {
            throw RejectedRequest.badRequest("message id " + id + " differs from the metadata's '" + Printable.of(message.id()) + "'");
        }
        requireFields(message);
        String home;
        try {
            home = directory.homeOf(message.extension());
        } catch (RejectedRequest unknown) {
            if (unknown.getStatus() != 404) {
                throw unknown;
            }
            // 409, not 404: to a sender, a 404 means this server is not serving /peer/voicemail (yet)
            throw new RejectedRequest(409, "extension " + message.extension() + " is not in the directory of " + site);
        }
        if (!home.equals(site)) {
            throw new RejectedRequest(409, "extension " + message.extension() + " is homed on " + home + ", not on " + site);
        }
        String actual = Sha256.hex(audio == null ? new byte[0] : audio);
        if (!actual.equals(sha256) || !actual.equals(message.sha256())) {
            throw new RejectedRequest(422, "SHA-256 of the received audio is " + actual + ", the sender announced "
                    + Printable.of(sha256));
        }
        codec.requireStoredFormat(audio);
        // the fields are rebuilt from what was checked; durationMs and sha256 are numbers and hex by now
        return new VoicemailMessage(message.id(), message.callId(), message.from(), message.extension(),
                message.switchId(), message.recordedBy(), message.receivedAt(), message.durationMs(),
                message.sourceEncoding(), actual, false);
    }
}
