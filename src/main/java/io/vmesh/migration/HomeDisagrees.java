package io.vmesh.migration;

/**
 * The home answered 409: its topology does not home the message's extension there, this server's
 * does. For the seconds a topology change takes to reach every server that is expected; for longer,
 * the files differ and the operator makes them agree. Either way the message waits (retried with
 * back-off, the reason in {@code /migrations}), and is never dead-lettered for it.
 */
public final class HomeDisagrees extends RuntimeException {

    public HomeDisagrees(String message) {
        super(message, null, false, false);
    }
}
