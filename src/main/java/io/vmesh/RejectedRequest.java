package io.vmesh;

import io.vmesh.migration.ChecksumRejected;
import io.vmesh.migration.HomeUnavailable;
import io.vmesh.migration.Undeliverable;

/**
 * A request that vmesh refuses before anything is stored. Routes answer it with the status code
 * and {@code {"error": message}}; the message says what is wrong in terms the caller can fix.
 */
public final class RejectedRequest extends RuntimeException {

    private final int status;
    private final java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();

    public RejectedRequest(int status, String message) {
        super(message, null, false, false); // an answer to a client, not a failure: no stack trace
        this.status = status;
    }

    public int getStatus() {
        return status;
    }

    /** A header the answer carries (WWW-Authenticate, Retry-After); the data port's filter must let it out. */
    public RejectedRequest withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /** Sets the headers of the rejection behind the exchange's failure on its answer. */
    public static void answerHeaders(org.apache.camel.Exchange exchange) {
        Throwable failure = exchange.getProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, Throwable.class);
        RejectedRequest rejected = find(failure != null ? failure : exchange.getException());
        if (rejected != null) {
            rejected.headers.forEach(exchange.getMessage()::setHeader);
        }
    }

    /** The rejection behind a failure, however Camel wrapped it (a bean expression wraps what it throws). */
    public static RejectedRequest find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RejectedRequest rejected) {
                return rejected;
            }
        }
        return null;
    }

    /** The reason to record for a failure: vmesh's own words, not the wrapper Camel put around them. */
    public static String reasonOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RejectedRequest || t instanceof Undeliverable || t instanceof ChecksumRejected
                    || t instanceof HomeUnavailable) {
                return t.getMessage();
            }
        }
        return failure == null ? "unknown" : String.valueOf(failure.getMessage());
    }

    /** The status to answer a failure with: the rejection's, or 503 so that a switch tries its next server. */
    public static int statusOf(Throwable failure) {
        RejectedRequest rejected = find(failure);
        return rejected == null ? 503 : rejected.status;
    }

    /** The {@code {"error": ...}} body: the reason for a rejection, a generic one otherwise. */
    public static java.util.Map<String, String> errorBody(Throwable failure) {
        RejectedRequest rejected = find(failure);
        String message = rejected != null
                ? rejected.getMessage()
                : "the server could not complete the request and kept nothing of it; retry, or use another server";
        return java.util.Map.of("error", message);
    }

    public static RejectedRequest badRequest(String message) {
        return new RejectedRequest(400, message);
    }

    public static RejectedRequest notFound(String message) {
        return new RejectedRequest(404, message);
    }
}
