package io.vmesh.security;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The management port's login (HTTP Basic on everything under {@code /observe}), from
 * {@code management.user} and {@code management.password} in the secrets file. Camel's management
 * server reads its users from a properties file of its own format; vmesh writes one, readable by
 * its user only, in a temporary file deleted at exit, so that the password lives in the secrets
 * file alone.
 */
public final class ManagementLogin {

    /** What the user name and password may hold: the users file's format gives ',' and '=' meanings. */
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9._~+/-]{12,256}");

    private ManagementLogin() {
    }

    /** Writes the users file of the management server for the login in {@code secretsFile}; returns its path. */
    public static Path usersFile(Path secretsFile) {
        Properties secrets = new Properties();
        try (Reader in = Files.newBufferedReader(secretsFile, StandardCharsets.UTF_8)) {
            secrets.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the secrets file " + secretsFile + " (see docs/security.md): " + e.getMessage(), e);
        }
        String user = secrets.getProperty("management.user", "").trim();
        String password = secrets.getProperty("management.password", "").trim();
        if (!USER.matcher(user).matches()) {
            throw new IllegalArgumentException(secretsFile + ": management.user must be 1 to 64 letters, digits or ._-");
        }
        if (!PASSWORD.matcher(password).matches()) {
            throw new IllegalArgumentException(secretsFile + ": management.password must be 12 to 256 letters, digits or ._~+/-");
        }
        try {
            Path file = Files.createTempFile("vmesh-management-", ".properties",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            file.toFile().deleteOnExit();
            Files.writeString(file, "user." + user + " = " + password + ",operator\nrole.operator = *\n");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the management port's users file", e);
        }
    }
}
