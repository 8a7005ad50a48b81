package io.vmesh;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The demo credentials of camel-config/secrets.properties, as switches and mailbox owners present them. */
public final class Credentials {

    static final String DEFAULT_PIN = "0000";

    private Credentials() {
    }

    public static String switchToken(String switchId) {
        return "Bearer demo-" + switchId;
    }

    public static String mailbox(String extension, String pin) {
        return "Basic " + Base64.getEncoder().encodeToString((extension + ":" + pin).getBytes(StandardCharsets.UTF_8));
    }

    /** The owner's credentials for a mailbox path ({@code /mailboxes/<ext>/...}), with the default PIN. */
    static String forMailboxPath(String path) {
        String[] parts = path.split("/");
        return mailbox(parts.length > 2 ? parts[2] : "", DEFAULT_PIN);
    }
}
