package io.vmesh.switches.sip.media;

import java.io.IOException;

/** Every RTP port of the configured range is in use: the call is refused (503 with Retry-After). */
public final class NoMediaPortAvailable extends IOException {

    public NoMediaPortAvailable(String message) {
        super(message);
    }
}
