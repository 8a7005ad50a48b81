package io.vmesh.storage;

import io.vmesh.RejectedRequest;
import io.vmesh.security.Printable;

import java.util.regex.Pattern;

/**
 * A voicemail's metadata, kept beside its audio as {@code <id>.json}. The id is the one given when
 * the message was recorded and stays with it everywhere; {@code sha256} is of the stored WAV.
 */
public record VoicemailMessage(String id, String callId, String from, String extension, String switchId,
                               String recordedBy, String receivedAt, long durationMs, String sourceEncoding,
                               String sha256, boolean heard) {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,99}");

    public VoicemailMessage asHeard() {
        return new VoicemailMessage(id, callId, from, extension, switchId, recordedBy, receivedAt, durationMs,
                sourceEncoding, sha256, true);
    }

    /** Whether {@code id} is a message id: letters, digits and dashes, so never a path. */
    public static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** 400 unless {@code id} is a message id. */
    public static void requireValidId(String id) {
        if (!isValidId(id)) {
            throw RejectedRequest.badRequest("message id must be letters, digits and dashes, got '" + Printable.of(id) + "'");
        }
    }
}
