package io.vmesh.migration;

/** The home server received audio whose SHA-256 did not match: retried a few times, then dead-lettered. */
public final class ChecksumRejected extends RuntimeException {

    public ChecksumRejected(String message) {
        super(message, null, false, false);
    }
}
