package io.vmesh.security;

import io.vmesh.storage.DurableFiles;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The management port's login (HTTP Basic on everything under {@code /observe}), from
 * {@code management.user} and {@code management.password} in the secrets file. Camel's management
 * server reads its users from a properties file of its own format (Vert.x's, read at the first
 * login): vmesh writes one at each start, {@code <data>/management-users.properties}, 0600 in the
 * 0700 data directory like the server's other private files, and deletes it at a clean exit. (Not
 * in a shared temporary directory, where a killed server would leave it.)
 */
public final class ManagementLogin {

    /** What the user name and password may hold: the users file's format gives ',' and '=' meanings. */
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9._~+/-]{12,256}");
    private static final String USERS_FILE = "management-users.properties";

    private ManagementLogin() {
    }

    /** Writes the users file of the management server for the login in {@code secretsFile} into {@code dataDir}; returns its path. */
    public static Path usersFile(Path secretsFile, Path dataDir) {
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
        Path file = dataDir.resolve(USERS_FILE);
        try {
            DurableFiles.createPrivateDirectories(dataDir);
            DurableFiles.writeForced(file, ("user." + user + " = " + password + ",operator\nrole.operator = *\n")
                    .getBytes(StandardCharsets.UTF_8));
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the management port's users file " + file, e);
        }
    }
}
