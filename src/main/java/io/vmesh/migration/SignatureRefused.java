package io.vmesh.migration;

/**
 * The home answered 401 or 403 to this server's signature: it is there, but a cluster secret or a
 * clock differs. Retried with the message's own back-off until an operator mends it; never dead-lettered.
 */
public final class SignatureRefused extends RuntimeException {

    public SignatureRefused(String message) {
        super(message, null, false, false);
    }
}
