package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.nio.file.Path;

/** Turns the partial file of a call interrupted by a crash into the recording it holds. */
public final class PartialRecordings {

    private PartialRecordings() {
    }

    public static Recording recover(Path partialFile) throws IOException {
        throw new IOException("not yet");
    }
}
