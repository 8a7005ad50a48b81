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

    /**
     * The peers: probed on each check and reported by name. A peer that is down is the situation
     * vmesh exists for, so it is a detail of an UP check, never a reason to refuse calls.
     */
    static final class Peers extends AbstractHealthCheck {
        private final String site;
        private final Directory directory;
        private final PeerAvailability peers;

        Peers(String site, Directory directory, PeerAvailability peers) {
            super("vmesh", "peers");
            this.site = site;
            this.directory = directory;
            this.peers = peers;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            int down = 0;
            for (Directory.Server server : directory.servers()) {
                if (server.id().equals(site)) {
                    continue;
                }
                try {
                    peers.requireReachable(server.id());
                    builder.detail("peer." + server.id(), "reachable");
                } catch (HomeUnavailable e) {
                    builder.detail("peer." + server.id(), "unreachable: " + peers.states().get(server.id()).lastError());
                    down++;
                }
            }
            builder.message(down == 0 ? "all peers reachable" : down + " peer(s) unreachable; their messages wait in the spool");
            builder.up();
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
