package io.vmesh;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where vmesh is installed: the directory that holds {@code routes/} and {@code camel-config/}. Set
 * by the launcher {@code bin/vmesh} ({@code -Dvmesh.home}); otherwise found from vmesh's own jar
 * ({@code <home>/lib/vmesh.jar} in a distribution, {@code <checkout>/target/vmesh.jar} in a build);
 * otherwise (classes run from a directory, as in an IDE) the working directory.
 */
public final class Installation {

    private Installation() {
    }

    public static Path home() {
        String property = System.getProperty("vmesh.home");
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        Path jar = ownJar();
        if (jar != null) {
            for (Path dir = jar.getParent(); dir != null && dir.getNameCount() > 0; dir = dir.getParent()) {
                if (Files.isDirectory(dir.resolve("routes"))) {
                    return dir;
                }
                if (!dir.equals(jar.getParent())) {
                    break; // the jar's directory and its parent only
                }
            }
        }
        return Path.of("").toAbsolutePath();
    }

    public static Path routes() {
        return home().resolve("routes");
    }

    public static Path config() {
        return home().resolve("camel-config");
    }

    /** vmesh's jar, or null when its classes come from a directory. */
    private static Path ownJar() {
        try {
            Path code = Path.of(Installation.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(code) ? code.toAbsolutePath().normalize() : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
