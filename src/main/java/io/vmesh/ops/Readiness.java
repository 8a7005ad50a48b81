package io.vmesh.ops;

import io.vmesh.migration.EmbeddedBroker;
import io.vmesh.migration.MigrationRoutes;
import io.vmesh.migration.PeerAvailability;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Readiness checks of what a site server needs to accept calls and peer deliveries. */
public final class Readiness {

    private Readiness() {
    }

    /** A readiness check only: a server failing it is alive (no restart helps), just not ready for calls or peers. */
    private abstract static class ReadinessCheck extends AbstractHealthCheck {
        public ReadinessCheck(String id) {
            super("vmesh", id);
        }

        @Override
        public final boolean isLiveness() {
            return false;
        }
    }

    /** The broker that holds the migration queue: embedded and started, or external and answering. */
    public static final class Broker extends ReadinessCheck {
        private final EmbeddedBroker embedded;
        private final ConnectionFactory connections;
        private final String brokerUrl;
        private final ExecutorService prober = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vmesh-broker-readiness");
            t.setDaemon(true);
            return t;
        });
        private Future<?> probe;

        public Broker(EmbeddedBroker embedded, ConnectionFactory connections, String brokerUrl) {
            super("broker");
            this.embedded = embedded;
            this.connections = connections;
            this.brokerUrl = brokerUrl;
        }

        @Override
        protected synchronized void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("broker.url", brokerUrl.replaceAll("//[^@/]*@", "//***@"));
            if (embedded != null) {
                if (embedded.isRunning()) {
                    builder.up();
                } else {
                    builder.down().message("the embedded broker is not running");
                }
                return;
            }
            // an external broker: open a connection through the routes' own pool, on a thread of its
            // own, and never stack probes behind one that hangs (a failover URL waits for the broker)
            if (probe == null || probe.isDone()) {
                probe = prober.submit(() -> {
                    try (Connection c = connections.createConnection()) {
                        c.start();
                    }
                    return null;
                });
            }
            try {
                probe.get(2, TimeUnit.SECONDS);
                builder.up();
            } catch (TimeoutException e) {
                builder.down().message("the broker does not answer within 2 s");
            } catch (Exception e) {
                builder.down().message("the broker does not answer: " + e.getMessage());
            }
        }
    }

    /**
     * The peers, as the watch-peers route and the migrations last found them. A peer that is down
     * is the situation vmesh exists for, so it is a detail of an UP check, never a reason to refuse
     * calls. The check itself calls no peer: a peer's /health asks for this server's readiness, and
     * probing from here would make every /health call the others' in a loop. Peers are asked after
     * only while messages wait for them (or by the operator's sweep), so in a large company most are
     * "not asked": the details name the unreachable ones and count the rest.
     */
    public static final class Peers extends ReadinessCheck {
        private final String site;
        private final Directory directory;
        private final PeerAvailability peers;

        public Peers(String site, Directory directory, PeerAvailability peers) {
            super("peers");
            this.site = site;
            this.directory = directory;
            this.peers = peers;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            Map<String, PeerAvailability.PeerState> states = peers.states();
            int down = 0;
            int reachable = 0;
            int notAsked = 0;
            for (Directory.Server server : directory.servers()) {
                if (server.id().equals(site)) {
                    continue;
                }
                PeerAvailability.PeerState state = states.get(server.id());
                if (state == null) {
                    notAsked++;
                } else if (state.reachable()) {
                    reachable++;
                } else {
                    builder.detail("peer." + server.id(), "unreachable since " + state.lastErrorAt() + ": " + state.lastError());
                    down++;
                }
            }
            builder.detail("peers.reachable", reachable);
            builder.detail("peers.unreachable", down);
            builder.detail("peers.not-asked", notAsked);
            builder.message(down == 0 ? "no peer known to be unreachable"
                    : down + " peer(s) unreachable; their messages wait in the spool");
            builder.up();
        }
    }

    /** The migration routes of the homes with a backlog at start-up: added once the context has started ({@link MigrationRoutes}). */
    public static final class Migration extends ReadinessCheck {
        private final MigrationRoutes routes;

        public Migration(MigrationRoutes routes) {
            super("migration-routes");
            this.routes = routes;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            if (routes.added()) {
                builder.up();
            } else {
                builder.down().message("the migration routes of the homes with messages waiting are not added yet");
            }
        }
    }

    /** The data directory: there, writable, and with room for recordings. */
    public static final class DataDirectory extends ReadinessCheck {
        private final Path dataDir;
        private final long minFreeBytes;

        public DataDirectory(Path dataDir, long minFreeBytes) {
            super("data-directory");
            this.dataDir = dataDir;
            this.minFreeBytes = minFreeBytes;
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
