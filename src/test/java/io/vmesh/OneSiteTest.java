package io.vmesh;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Tests against one server, hq, started once for the class with the shipped configuration. */
abstract class OneSiteTest {

    @TempDir
    static Path dir;
    static SiteServer hq;

    @BeforeAll
    static void startHq() {
        hq = new SiteServer(new TestTopology(dir.resolve("config")), "hq", dir.resolve("data")).start();
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }
}
