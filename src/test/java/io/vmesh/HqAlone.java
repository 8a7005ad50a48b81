package io.vmesh;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class's one hq server, started alone with properties of its own: a subclass starts it in
 * its {@code @BeforeAll} with {@link #startHq(String)}; it is stopped after the class.
 */
abstract class HqAlone {

    @TempDir
    static Path dir;
    static SiteServer hq;
    /** hq's data port. */
    static int port;

    /** Starts hq with {@code properties} as its {@code hq.properties}. */
    static void startHq(String properties) {
        hq = SiteServer.hqAlone(dir, properties);
        port = hq.dataPort();
    }

    @AfterAll
    static void stopHq() {
        hq.close();
    }
}
