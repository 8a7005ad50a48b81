package io.vmesh;

import java.nio.file.Path;

import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shipped demo secrets are public: a server reachable from other hosts refuses to start with them. */
class DemoSecretsTest {

    @TempDir
    Path dir;

    @Test
    void aServerOnANonLoopbackAddressRefusesToStartWithDemoSecrets() {
        TestTopology topology = new TestTopology(dir.resolve("config")).siteProperties("hq", "camel.rest.host = 0.0.0.0\n");
        Main main = Vmesh.create("--site=hq", "--config=" + topology.configDir, "--data=" + dir.resolve("data"));
        try {
            assertThatThrownBy(main::start).satisfies(e -> assertThat(rootCause(e).getMessage())
                    .contains("Refusing to serve 0.0.0.0 with the public demo secrets")
                    .contains("docs/security.md").contains("--demo"));
        } finally {
            main.stop();
        }
    }

    @Test
    void onLoopbackTheDemoSecretsStillServe() {
        try (SiteServer hq = new SiteServer(new TestTopology(dir.resolve("config")), "hq", dir.resolve("data")).start()) {
            assertThat(hq.get("/health").statusCode()).isEqualTo(200);
        }
    }

    private static Throwable rootCause(Throwable e) {
        return e.getCause() == null ? e : rootCause(e.getCause());
    }
}
