package io.vmesh;

import java.nio.file.Path;
import java.time.Duration;

import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.test.main.junit5.Configure;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;

/**
 * Tests against one server, hq, with the shipped configuration, the real routes and beans started
 * once for the class by the Camel test kit; {@link #hq} is its data port's client.
 */
// one site per test JVM: the suite runs two at once (the pom's forkCount), and two of these classes may run side by side
@CamelMainTest(propertyPlaceholderLocations = {"file:target/route-tests/one-site-${vmesh.test.fork}/hq.properties",
        "file:camel-config/application.properties"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OneSiteTest {

    static SiteServer hq;
    private static RouteTestSite site;
    /** A scratch directory for the class's own files. */
    @TempDir
    static Path dir;

    @BeforeAll
    static void prepareHq() {
        site = RouteTestSite.prepare("one-site-fork-" + TestTopology.forkNumber()); // before the test kit starts Camel with its properties
        hq = site.client();
    }

    @Configure
    protected void configure(MainConfigurationProperties configuration) {
        site.requireManagementLogin(configuration);
    }

    @BeforeEach
    void hqTakesCalls() {
        await().atMost(Duration.ofSeconds(30)).until(() -> hq.get("/health").statusCode() == 200);
    }
}
