package io.vmesh.migration;

/** The home server cannot take the message now (down, unreachable, or answering 5xx): try again later, without limit. */
public final class HomeUnavailable extends RuntimeException {

    public HomeUnavailable(String message) {
        super(message, null, false, false);
    }
}
