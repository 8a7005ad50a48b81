package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** One call's media: plays the prompt to the negotiated address, records the caller's RTP. */
public final class MediaSession implements AutoCloseable {

    private final CompletableFuture<EndReason> ended = new CompletableFuture<>();

    MediaSession() {
    }

    public int localPort() {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Starts the call's media: the prompt (8 kHz mono signed 16-bit little-endian PCM, greeting then
     * tone) is sent paced at 20 ms per packet to {@code remoteRtp}, and RTP from that address only is
     * recorded. {@code payloadType} is 0 (PCMU) or 8 (PCMA); {@code telephoneEventPayloadType} is -1
     * when RFC 4733 was not negotiated.
     */
    public void start(InetSocketAddress remoteRtp, int payloadType, int telephoneEventPayloadType, byte[] promptPcm16) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Completes when vmesh ends the recording: '#', the maximum length or silence. */
    public CompletableFuture<EndReason> ended() {
        return ended;
    }

    /** Stops the media and returns what was recorded (lost packets as silence). */
    public Recording finish() throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /** Abandons the call: stops the media and deletes the partial file. */
    @Override
    public void close() {
    }
}
