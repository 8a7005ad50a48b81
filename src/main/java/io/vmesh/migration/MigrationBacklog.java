package io.vmesh.migration;

import io.vmesh.RejectedRequest;
import io.vmesh.storage.VoicemailMessage;
import io.vmesh.storage.Spool;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.Variable;

/**
 * What waits for each home server: the messages recorded here and not yet in their home mailbox,
 * with how many were delivered or dead-lettered since start. Loaded from the spool at start-up, kept
 * up to date by the migration routes; served as {@code GET /migrations} and as metrics.
 */
public final class MigrationBacklog {

    /** One home server's line of {@code GET /migrations}. */
    public record HomeBacklog(int pending, Long oldestAgeSeconds, long delivered, long deadLettered,
                              boolean reachable, String lastError, String lastErrorAt) {
    }

    private final String site;
    private final Directory directory;
    private final PeerAvailability peers;
    private final Map<String, Map<String, Instant>> pending = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> delivered = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> deadLettered = new ConcurrentHashMap<>();
    private final Map<String, Timer> latency = new ConcurrentHashMap<>();
    private volatile MeterRegistry boundTo;
    private final java.util.Set<String> metered = ConcurrentHashMap.newKeySet();

    public MigrationBacklog(String site, Directory directory, PeerAvailability peers, Spool spool) throws IOException {
        this.site = site;
        this.directory = directory;
        this.peers = peers;
        for (VoicemailMessage m : spool.messages()) {
            try {
                queued(m.id(), directory.homeOf(m.extension()), m.receivedAt());
            } catch (RejectedRequest notInDirectory) {
                // the migration route dead-letters it when it comes off the queue
            }
        }
    }

    /**
     * Publishes the backlog as meters, tagged with the home server: those of each home that has had a
     * message waiting since start (a company of 500 sites does not get 2,500 meters of idle homes).
     */
    public synchronized void bindTo(MeterRegistry registry) {
        if (boundTo == registry) {
            return;
        }
        boundTo = registry;
        metered.clear();
        pending.keySet().forEach(this::meter);
    }

    private void meter(String home) {
        MeterRegistry registry = boundTo;
        if (registry == null || !metered.add(home)) {
            return;
        }
        Gauge.builder("vmesh.migrations.pending", () -> pending(home))
                .description("messages recorded here, waiting for their home server").tag("home", home).register(registry);
        Gauge.builder("vmesh.migrations.oldest.age", () -> {
                    Long age = oldestAgeSeconds(home);
                    return age == null ? 0 : age;
                })
                .description("age of the oldest message waiting for its home server").baseUnit("seconds")
                .tag("home", home).register(registry);
        FunctionCounter.builder("vmesh.migrations.delivered", counter(delivered, home), AtomicLong::get)
                .description("messages delivered to their home server since start").tag("home", home).register(registry);
        FunctionCounter.builder("vmesh.migrations.dead.lettered", counter(deadLettered, home), AtomicLong::get)
                .description("messages that could not be delivered, since start").tag("home", home).register(registry);
        latency.put(home, Timer.builder("vmesh.migrations.delivery.latency")
                .description("from recording here to durable in the home mailbox").tag("home", home)
                .publishPercentiles(0.5, 0.99).register(registry));
    }

    private static AtomicLong counter(Map<String, AtomicLong> counters, String home) {
        return counters.computeIfAbsent(home, h -> new AtomicLong());
    }

    public void queued(@Variable("messageId") String id, @Variable("home") String home,
                       @Variable("receivedAt") String receivedAt) {
        if (!home.equals(site)) {
            pending.computeIfAbsent(home, h -> new ConcurrentHashMap<>())
                    .put(id, receivedAt == null ? Instant.now() : Instant.parse(receivedAt));
            if (boundTo != null && !metered.contains(home)) {
                synchronized (this) {
                    meter(home);
                }
            }
        }
    }

    public void delivered(@Variable("messageId") String id, @Variable("home") String home) {
        Instant receivedAt = remove(id, home);
        if (receivedAt != null) {
            counter(delivered, home).incrementAndGet();
            Timer timer = latency.get(home);
            if (timer != null) {
                timer.record(Duration.between(receivedAt, Instant.now()));
            }
        }
    }

    /** The message left this home's backlog for another reason (its extension moved to another home). */
    public void forget(@Variable("messageId") String id, @Variable("home") String home) {
        remove(id, home);
    }

    public void deadLettered(@Variable("messageId") String id, @Variable("home") String home) {
        remove(id, home);
        counter(deadLettered, home).incrementAndGet();
    }

    private Instant remove(String id, String home) {
        Map<String, Instant> waiting = home == null ? null : pending.get(home);
        return waiting == null ? null : waiting.remove(id);
    }

    Long oldestAgeSeconds(String home) {
        return pending.getOrDefault(home, Map.of()).values().stream().min(Instant::compareTo)
                .map(oldest -> Duration.between(oldest, Instant.now()).toSeconds()).orElse(null);
    }

    /** How many messages wait for this home. */
    public int pending(String home) {
        Map<String, Instant> waiting = pending.get(home);
        return waiting == null ? 0 : waiting.size();
    }

    /** The homes that have at least one message waiting. */
    public java.util.Set<String> waitingHomes() {
        java.util.Set<String> homes = new java.util.TreeSet<>();
        pending.forEach((home, waiting) -> {
            if (!waiting.isEmpty()) {
                homes.add(home);
            }
        });
        return homes;
    }

    /** {@code GET /migrations}: per home server, what waits and since when, and what went wrong last. */
    public Map<String, HomeBacklog> report() {
        Map<String, PeerAvailability.PeerState> states = peers.states();
        Map<String, HomeBacklog> report = new LinkedHashMap<>();
        for (Directory.Server server : directory.servers()) {
            String home = server.id();
            if (home.equals(site)) {
                continue;
            }
            PeerAvailability.PeerState state = states.get(home);
            report.put(home, new HomeBacklog(pending(home), oldestAgeSeconds(home),
                    counter(delivered, home).get(), counter(deadLettered, home).get(),
                    state == null || state.reachable(), state == null ? null : state.lastError(),
                    state == null ? null : state.lastErrorAt()));
        }
        return report;
    }
}
