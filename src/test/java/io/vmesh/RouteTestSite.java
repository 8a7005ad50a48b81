package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.apache.camel.main.MainConfigurationProperties;

/**
 * The site hq for a route test on the Camel test kit ({@code @CamelMainTest}): a test topology on free
 * ports and the properties {@code vmesh --site=hq} would derive from it, written to
 * {@code target/route-tests/<test>/hq.properties}, which the test names first among its property
 * placeholder locations (before the shipped {@code camel-config/application.properties}). The test
 * kit starts the real routes and beans with them; {@link #client} talks to the data port.
 */
final class RouteTestSite {

    final TestTopology topology;
    final Path dataDir;

    private RouteTestSite(TestTopology topology, Path dataDir) {
        this.topology = topology;
        this.dataDir = dataDir;
    }

    /** Prepares {@code target/route-tests/<name>/} afresh; call it before the test kit starts Camel (in {@code @BeforeAll}). */
    static RouteTestSite prepare(String name) {
        Path root = Path.of("target/route-tests", name).toAbsolutePath();
        deleteRecursively(root);
        TestTopology topology = new TestTopology(root.resolve("config"));
        Path data = root.resolve("data");
        String properties = String.join("\n",
                "vmesh.site = hq",
                "vmesh.config-dir = " + topology.configDir,
                "vmesh.routes-dir = " + Path.of("routes").toAbsolutePath(),
                "vmesh.topology = " + topology.configDir.resolve("topology.yaml"),
                "vmesh.data-dir = " + data,
                "vmesh.data-host = 127.0.0.1",
                "vmesh.data-port = " + topology.dataPorts.get("hq"),
                "vmesh.management-host = 127.0.0.1",
                "vmesh.management-port = " + topology.managementPorts.get("hq"),
                "");
        try {
            Files.writeString(root.resolve("hq.properties"), properties);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RouteTestSite(topology, data);
    }

    /** As {@code vmesh} does: the management port asks for the login of the site's secrets file. */
    void requireManagementLogin(MainConfigurationProperties configuration) {
        Vmesh.requireManagementLogin(configuration, topology.configDir.resolve("secrets.properties"), dataDir);
    }

    /** HTTP to hq's data port, as a switch or a mailbox owner (the server itself is the test kit's). */
    SiteServer client() {
        return new SiteServer(topology, "hq", dataDir);
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
