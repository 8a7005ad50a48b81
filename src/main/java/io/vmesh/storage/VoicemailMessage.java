package io.vmesh.storage;

/**
 * A voicemail's metadata, kept beside its audio as {@code <id>.json}. The id is the one given when
 * the message was recorded and stays with it everywhere; {@code sha256} is of the stored WAV.
 */
public record VoicemailMessage(String id, String callId, String from, String extension, String switchId,
                               String recordedBy, String receivedAt, long durationMs, String sourceEncoding,
                               String sha256, boolean heard) {

    public VoicemailMessage asHeard() {
        return new VoicemailMessage(id, callId, from, extension, switchId, recordedBy, receivedAt, durationMs,
                sourceEncoding, sha256, true);
    }
}
