package io.vmesh;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The demo credentials of camel-config/secrets.properties, as switches and mailbox owners present them. */
public final class Credentials {

    static final String DEFAULT_PIN = "0000";
    /** The PIN tests set for every mailbox they read: the default PIN only sets one. */
    static final String OWNER_PIN = "24681357";
    private static final java.util.Set<String> CLAIMED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Credentials() {
    }

    public static String switchToken(String switchId) {
        return "Bearer demo-" + switchId;
    }

    /** The management port's login (management.user, management.password). */
    public static String management() {
        return mailbox("operator", "demo-management-change-me");
    }

    public static String mailbox(String extension, String pin) {
        return "Basic " + Base64.getEncoder().encodeToString((extension + ":" + pin).getBytes(StandardCharsets.UTF_8));
    }

    /** The owner's credentials for a mailbox path ({@code /mailboxes/<ext>/...}): the PIN {@link #claim} set. */
    static String forMailboxPath(String path) {
        return mailbox(extensionOf(path), OWNER_PIN);
    }

    static String extensionOf(String path) {
        String[] parts = path.split("/");
        return parts.length > 2 ? parts[2] : "";
    }

    /**
     * The owner's first act: the default PIN replaced by {@link #OWNER_PIN}, once per server (data URL)
     * and mailbox; a 307 (not its home) leaves it for the home. Returns the owner's credentials.
     */
    static String claim(java.net.http.HttpClient http, String dataUrl, String extension) {
        if (CLAIMED.contains(dataUrl + " " + extension)) {
            return mailbox(extension, OWNER_PIN);
        }
        try {
            int status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(dataUrl + "/mailboxes/" + extension + "/pin"))
                    .header("Authorization", mailbox(extension, DEFAULT_PIN))
                    .timeout(java.time.Duration.ofSeconds(30))
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(OWNER_PIN)).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 204 || status == 401) { // 401: set before, by an earlier server on this data
                CLAIMED.add(dataUrl + " " + extension);
            }
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return mailbox(extension, OWNER_PIN);
    }
}
