package io.vmesh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.jms.Connection;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Readiness checks of what a site server needs to accept calls and peer deliveries. */
final class Readiness {

    private Readiness() {
    }

    /** The broker that holds the migration queue: embedded and started, or external and answering. */
    static final class Broker extends AbstractHealthCheck {
        private final EmbeddedBroker embedded;
        private final String brokerUrl;

        Broker(EmbeddedBroker embedded, String brokerUrl) {
            super("vmesh", "broker");
            this.embedded = embedded;
            this.brokerUrl = brokerUrl;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("broker.url", brokerUrl.replaceAll("//[^@/]*@", "//***@"));
            if (embedded != null) {
                if (embedded.isRunning()) {
                    builder.up();
                } else {
                    builder.down().message("the embedded broker is not running");
                }
                return;
            }
            try {
                CompletableFuture.runAsync(() -> {
                    try (Connection c = new ActiveMQConnectionFactory(brokerUrl).createConnection()) {
                        c.start();
                    } catch (jakarta.jms.JMSException e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                }).get(2, TimeUnit.SECONDS);
                builder.up();
            } catch (Exception e) {
                builder.down().message("the broker does not answer: " + e.getMessage());
            }
        }
    }

    /** The data directory: there, writable, and with room for recordings. */
    static final class DataDirectory extends AbstractHealthCheck {
        private final Path dataDir;
        private final long minFreeBytes;

        DataDirectory(Path dataDir, long minFreeBytes) {
            super("vmesh", "data-directory");
            this.dataDir = dataDir;
            this.minFreeBytes = minFreeBytes;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("data.dir", dataDir.toString());
            try {
                Path probe = Files.createTempFile(dataDir, ".ready-", ".probe");
                Files.delete(probe);
                long free = Files.getFileStore(dataDir).getUsableSpace();
                builder.detail("free.bytes", free);
                if (free < minFreeBytes) {
                    builder.down().message("only " + free / (1024 * 1024) + " MB free in " + dataDir);
                } else {
                    builder.up();
                }
            } catch (IOException | RuntimeException e) {
                builder.down().message("cannot write to " + dataDir + ": " + e.getMessage());
            }
        }
    }
}
