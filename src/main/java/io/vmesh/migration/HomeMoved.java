package io.vmesh.migration;

/**
 * The directory no longer homes the message's extension on the server its queue is for (the topology
 * changed while the message waited): it goes through step 420 again, to its new home.
 */
public final class HomeMoved extends RuntimeException {

    public HomeMoved(String message) {
        super(message, null, false, false);
    }
}
