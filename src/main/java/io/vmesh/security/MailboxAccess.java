package io.vmesh.security;

import io.vmesh.RejectedRequest;
import io.vmesh.storage.DurableFiles;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

import org.apache.camel.Body;
import org.apache.camel.Header;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Only a mailbox's owner reaches it: HTTP Basic with the extension as the user and its PIN as the
 * password. A PIN is kept only as a salted PBKDF2 hash of its HMAC with {@code mailbox.pin-key} from
 * the secrets file ({@code <data>/pins/<ext>}), so the data directory alone gives nothing away. Until
 * its owner sets one, a mailbox takes the site's default PIN, which opens it only to set a PIN of the
 * owner's own. Every check costs the same, default PIN or not; guessing is slowed by {@link PinThrottle}.
 */
public final class MailboxAccess {

    private static final Logger LOG = LoggerFactory.getLogger(MailboxAccess.class);
    private static final String FORMAT = "vmesh-pin-v2";
    private static final int ITERATIONS = 60_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String CHALLENGE = "Basic realm=\"vmesh mailbox\", charset=\"UTF-8\"";

    /** A PIN record: salt and hash, and which key made it. */
    private record Stored(String keyId, byte[] salt, byte[] hash) {
    }

    private final Path pins;
    private final byte[] pinKey;
    private final String keyId;
    /** The default PIN, hashed like an owner's: comparing against it costs what comparing against theirs does. */
    private final Stored defaultPin;
    private final PinThrottle throttle;

    public MailboxAccess(Path dataDir, Secrets secrets, PinThrottle throttle) throws IOException {
        this.pins = DurableFiles.createPrivateDirectories(dataDir.resolve("pins"));
        this.pinKey = secrets.pinKey();
        this.keyId = HexFormat.of().formatHex(hmac(pinKey, "vmesh pin-key id".getBytes(StandardCharsets.UTF_8)), 0, 8);
        this.throttle = throttle;
        byte[] salt = newSalt();
        this.defaultPin = new Stored(keyId, salt, hash(secrets.defaultPin(), salt));
    }

    /**
     * 401 (and a challenge) without the owner's credentials; 429 while this client or this mailbox
     * has failed too often lately; 403 for the default PIN, unless the owner is setting their own
     * ({@code settingPin}). Returns quietly for the owner.
     */
    public void authenticate(@Header("ext") String extension, @Header("Authorization") String authorization,
                             @Header("CamelNettyRemoteAddress") Object remoteAddress,
                             @Variable("settingPin") Boolean settingPin) throws IOException {
        Directory.requireExtensionSyntax(extension);
        String[] credentials = basic(authorization);
        if (credentials == null) {
            // asking is not guessing: nothing counted
            throw new RejectedRequest(401, "mailbox " + extension + " needs its owner's PIN (HTTP Basic: extension and PIN)")
                    .withHeader("WWW-Authenticate", CHALLENGE);
        }
        PinThrottle.Reservation attempt;
        try {
            attempt = throttle.reserve(client(remoteAddress), extension);
        } catch (PinThrottle.Throttled throttled) {
            throw new RejectedRequest(429, (throttled.byClient() ? "too many wrong PINs from this address"
                    : "too many wrong PINs for mailbox " + extension) + " lately; retry after " + throttled.retryAfterSeconds() + " s")
                    .withHeader("Retry-After", String.valueOf(throttled.retryAfterSeconds()));
        }
        Stored own = stored(extension);
        // the same work whether the mailbox has its own PIN or the default one: timing tells neither
        boolean matches = credentials[0].equals(extension) & matches(own == null ? defaultPin : own, credentials[1]);
        if (!matches) { // the reserved failure stays counted
            if (own != null && !own.keyId().equals(keyId)) {
                LOG.warn("The PIN of mailbox {} was set with another mailbox.pin-key and can no longer be checked; "
                        + "delete {} to give the mailbox the default PIN again (docs/security.md)", extension, pins.resolve(extension));
                throw new RejectedRequest(401, "the PIN of mailbox " + extension + " cannot be checked on this server; "
                        + "ask an administrator to reset it").withHeader("WWW-Authenticate", CHALLENGE);
            }
            throw new RejectedRequest(401, "mailbox " + extension + " needs its owner's PIN (HTTP Basic: extension and PIN)")
                    .withHeader("WWW-Authenticate", CHALLENGE);
        }
        throttle.succeeded(attempt);
        if (own == null && !Boolean.TRUE.equals(settingPin)) {
            throw new RejectedRequest(403, "mailbox " + extension + " still has the default PIN, which only sets a PIN of "
                    + "your own: PUT /mailboxes/" + extension + "/pin with the new PIN (4 to 12 digits) as the body");
        }
    }

    /** {@code PUT /mailboxes/{ext}/pin}, after {@link #authenticate}: the body is the new PIN. */
    public void changePin(@Header("ext") String extension, @Body String newPin) throws IOException {
        String pin = newPin == null ? "" : newPin.trim();
        if (!pin.matches("[0-9]{4,12}")) {
            throw RejectedRequest.badRequest("a PIN is 4 to 12 digits");
        }
        if (matches(defaultPin, pin)) {
            throw RejectedRequest.badRequest("the new PIN must not be the default PIN");
        }
        byte[] salt = newSalt();
        Base64.Encoder b64 = Base64.getEncoder();
        String record = FORMAT + "$" + keyId + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash(pin, salt)) + "\n";
        DurableFiles.writeDurably(pins.resolve(extension), record.getBytes(StandardCharsets.US_ASCII));
    }

    /** The mailbox's own PIN record; null while it has none. An unreadable record never matches, and says so in the log. */
    private Stored stored(String extension) throws IOException {
        Path file = pins.resolve(extension);
        String text;
        try {
            text = Files.readString(file).trim();
        } catch (NoSuchFileException none) {
            return null;
        }
        String[] parts = text.split("\\$");
        try {
            if (parts.length == 4 && parts[0].equals(FORMAT)) {
                return new Stored(parts[1], Base64.getDecoder().decode(parts[2]), Base64.getDecoder().decode(parts[3]));
            }
        } catch (IllegalArgumentException damaged) {
            // below
        }
        return new Stored("unreadable", new byte[16], new byte[32]);
    }

    private boolean matches(Stored stored, String pin) {
        return MessageDigest.isEqual(stored.hash(), hash(pin, stored.salt()));
    }

    /** PBKDF2 over the PIN's HMAC with the pin key: without the key, a copied hash cannot be guessed at. */
    private byte[] hash(String pin, byte[] salt) {
        char[] keyed = HexFormat.of().formatHex(hmac(pinKey, pin.getBytes(StandardCharsets.UTF_8))).toCharArray();
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(keyed, salt, ITERATIONS, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has PBKDF2WithHmacSHA256", e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    private static byte[] newSalt() {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return salt;
    }

    /** The client a failure is counted against ({@link PinThrottle#clientOf}). */
    private static String client(Object remoteAddress) {
        return PinThrottle.clientOf(remoteAddress instanceof SocketAddress address ? address : null);
    }

    private static String[] basic(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            return colon < 0 ? null : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
