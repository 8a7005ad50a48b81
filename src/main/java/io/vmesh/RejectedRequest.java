package io.vmesh;

/**
 * A request that vmesh refuses before anything is stored. Routes answer it with the status code
 * and {@code {"error": message}}; the message says what is wrong in terms the caller can fix.
 */
public final class RejectedRequest extends RuntimeException {

    private final int status;

    public RejectedRequest(int status, String message) {
        super(message, null, false, false); // an answer to a client, not a failure: no stack trace
        this.status = status;
    }

    public int getStatus() {
        return status;
    }

    /** The {@code {"error": ...}} body for a failed request: the reason for a rejection, a generic one otherwise. */
    public static java.util.Map<String, String> errorBody(Exception failure) {
        String message = failure instanceof RejectedRequest
                ? failure.getMessage()
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
