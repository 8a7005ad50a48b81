package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.nio.file.Path;

/** The RTP port pool: one even UDP port per call; capacity = ports in the range / 2. */
public final class MediaSessions implements AutoCloseable {

    private final MediaSettings settings;

    public MediaSessions(MediaSettings settings) {
        this.settings = settings;
    }

    /**
     * Binds a UDP socket on a free even port of the range for a call whose audio is appended to
     * {@code partialFile} as it arrives; {@link NoMediaPortAvailable} when all are in use.
     */
    public MediaSession open(Path partialFile) throws IOException {
        throw new NoMediaPortAvailable("not yet");
    }

    public int active() {
        return 0;
    }

    public int capacity() {
        return settings.capacity();
    }

    @Override
    public void close() {
    }
}
