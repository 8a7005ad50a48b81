package io.vmesh;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
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
    /**
     * "home/id" of messages delivered or dead-lettered before {@link #queued} was told about them, and
     * whether the late note still has to count the delivery. The queue-migration route notes a message
     * after putting it on the queue, and a fast consumer may finish with it in between; without this,
     * the late note would leave it counted as waiting for ever. Bounded: each entry is taken out by its
     * late note, and one that never comes only costs a slot.
     */
    private final Map<String, Boolean> finishedBeforeQueued = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 10_000;
        }
    };
    private MeterRegistry boundTo;

    public MigrationBacklog(String site, Directory directory, PeerAvailability peers, VoicemailStore store) throws IOException {
        this.site = site;
        this.directory = directory;
        this.peers = peers;
        for (Directory.Server server : directory.servers()) {
            if (!server.id().equals(site)) {
                pending.put(server.id(), new ConcurrentHashMap<>());
                delivered.put(server.id(), new AtomicLong());
                deadLettered.put(server.id(), new AtomicLong());
            }
        }
        for (VoicemailMessage m : store.spooledMessages()) {
            try {
                queued(m.id(), directory.homeOf(m.extension()), m.receivedAt());
            } catch (RejectedRequest notInDirectory) {
                // the migration route dead-letters it when it comes off the queue
            }
        }
    }

    /** Publishes the backlog as gauges, one per home server. */
    public synchronized void bindTo(MeterRegistry registry) {
        if (boundTo == registry) {
            return;
        }
        boundTo = registry;
        for (String home : pending.keySet()) {
            Gauge.builder("vmesh.migrations.pending", () -> pending.get(home).size())
                    .description("messages recorded here, waiting for their home server").tag("home", home).register(registry);
            Gauge.builder("vmesh.migrations.oldest.age", () -> oldestAgeSeconds(home) == null ? 0 : oldestAgeSeconds(home))
                    .description("age of the oldest message waiting for its home server").baseUnit("seconds")
                    .tag("home", home).register(registry);
        }
    }

    public void queued(@Variable("messageId") String id, @Variable("home") String home,
                       @Variable("receivedAt") String receivedAt) {
        if (home.equals(site)) {
            return;
        }
        synchronized (finishedBeforeQueued) {
            Boolean countAsDelivered = finishedBeforeQueued.remove(home + "/" + id);
            if (countAsDelivered != null) { // its migration is over already
                if (countAsDelivered) {
                    delivered.computeIfAbsent(home, h -> new AtomicLong()).incrementAndGet();
                }
                return;
            }
            pending.computeIfAbsent(home, h -> new ConcurrentHashMap<>())
                    .put(id, receivedAt == null ? Instant.now() : Instant.parse(receivedAt));
        }
    }

    public void delivered(@Variable("messageId") String id, @Variable("home") String home) {
        synchronized (finishedBeforeQueued) {
            if (remove(id, home)) {
                delivered.computeIfAbsent(home, h -> new AtomicLong()).incrementAndGet();
            } else if (home != null) {
                finishedBeforeQueued.put(home + "/" + id, true); // overtook its own queued()
            }
        }
    }

    public void deadLettered(@Variable("messageId") String id, @Variable("home") String home) {
        synchronized (finishedBeforeQueued) {
            if (!remove(id, home) && home != null) {
                finishedBeforeQueued.put(home + "/" + id, false); // overtook its own queued(); counted here
            }
            deadLettered.computeIfAbsent(home, h -> new AtomicLong()).incrementAndGet();
        }
    }

    private boolean remove(String id, String home) {
        Map<String, Instant> waiting = home == null ? null : pending.get(home);
        return waiting != null && waiting.remove(id) != null;
    }

    Long oldestAgeSeconds(String home) {
        return pending.get(home).values().stream().min(Instant::compareTo)
                .map(oldest -> Duration.between(oldest, Instant.now()).toSeconds()).orElse(null);
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
            report.put(home, new HomeBacklog(pending.get(home).size(), oldestAgeSeconds(home),
                    delivered.get(home).get(), deadLettered.get(home).get(),
                    state == null || state.reachable(), state == null ? null : state.lastError(),
                    state == null ? null : state.lastErrorAt()));
        }
        return report;
    }
}
