package io.vmesh.security;

import io.vmesh.RejectedRequest;
import io.vmesh.storage.DurableFiles;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

import org.apache.camel.Body;
import org.apache.camel.Header;

/**
 * Only a mailbox's owner reaches it: HTTP Basic with the extension as the user and its PIN as the
 * password. PINs are kept only as salted PBKDF2 hashes ({@code <data>/pins/<ext>}); until its owner
 * sets one, a mailbox takes the site's default PIN. Repeated failures lock the mailbox for a while.
 */
public final class MailboxAccess {

    private static final int ITERATIONS = 60_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Failures(int count, Instant lockedUntil) {
    }

    private final Path pins;
    private final Secrets secrets;
    private final int maxFailures;
    private final Duration lockout;
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    public MailboxAccess(Path dataDir, Secrets secrets, int maxFailures, Duration lockout) throws IOException {
        this.pins = DurableFiles.createPrivateDirectories(dataDir.resolve("pins"));
        this.secrets = secrets;
        this.maxFailures = maxFailures;
        this.lockout = lockout;
    }

    /** 401 without the owner's credentials, 423 while locked; returns quietly for the owner. */
    public void authenticate(@Header("ext") String extension, @Header("Authorization") String authorization) throws IOException {
        Directory.requireExtensionSyntax(extension);
        Failures f = failures.get(extension);
        if (f != null && f.lockedUntil() != null && Instant.now().isBefore(f.lockedUntil())) {
            throw new RejectedRequest(423, "mailbox " + extension + " is locked after repeated wrong PINs; try again after "
                    + f.lockedUntil());
        }
        String[] credentials = basic(authorization);
        if (credentials == null || !credentials[0].equals(extension) || !pinMatches(extension, credentials[1])) {
            failed(extension);
            throw new RejectedRequest(401, "mailbox " + extension + " needs its owner's PIN (HTTP Basic: extension and PIN)");
        }
        failures.remove(extension);
    }

    /** {@code PUT /mailboxes/{ext}/pin}, after {@link #authenticate}: the body is the new PIN. */
    public void changePin(@Header("ext") String extension, @Body String newPin) throws IOException {
        String pin = newPin == null ? "" : newPin.trim();
        if (!pin.matches("[0-9]{4,12}")) {
            throw RejectedRequest.badRequest("a PIN is 4 to 12 digits");
        }
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        String record = "pbkdf2-sha256$" + ITERATIONS + "$" + Base64.getEncoder().encodeToString(salt) + "$"
                + Base64.getEncoder().encodeToString(hash(pin, salt, ITERATIONS));
        DurableFiles.writeDurably(pins.resolve(extension), record.getBytes(StandardCharsets.US_ASCII));
    }

    private boolean pinMatches(String extension, String pin) throws IOException {
        Path stored = pins.resolve(extension);
        if (!Files.exists(stored)) {
            return Secrets.same(secrets.defaultPin(), pin);
        }
        String[] parts = Files.readString(stored).trim().split("\\$");
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return java.security.MessageDigest.isEqual(expected, hash(pin, salt, Integer.parseInt(parts[1])));
    }

    private void failed(String extension) {
        failures.compute(extension, (ext, previous) -> {
            int count = previous == null ? 1 : previous.count() + 1;
            return new Failures(count, count >= maxFailures ? Instant.now().plus(lockout) : null);
        });
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

    private static byte[] hash(String pin, byte[] salt, int iterations) {
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(new PBEKeySpec(pin.toCharArray(), salt, iterations, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has PBKDF2WithHmacSHA256", e);
        }
    }
}
