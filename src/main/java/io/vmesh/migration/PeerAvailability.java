package io.vmesh.migration;

import io.vmesh.topology.Directory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * FIG. 4 step 435's network proxy: is the home server reachable? Asks its {@code GET /health} with
 * a short timeout and remembers the answer per server, for {@code /migrations} and readiness.
 * <p>
 * While a home is away, one consumer of its queue asks it again {@code awayProbeIntervalMs} after
 * the last probe ended, one probe at a time; the others fail at once, without a request, and look
 * again at their next retry. So when the home answers (a probe, {@code watch-peers}' probe or a
 * delivery), every consumer sends within one retry delay, not each at the end of its own back-off.
 */
public final class PeerAvailability {

    /** What is known of a peer: when it last answered, and the last error if it did not. */
    public record PeerState(boolean reachable, String checkedAt, String lastError, String lastErrorAt) {
    }

    private final Directory directory;
    private final Duration timeout;
    private final java.util.function.Supplier<javax.net.ssl.SSLContext> tls;
    private final long awayProbeIntervalNanos;
    private HttpClient http;
    private final Map<String, PeerState> states = new ConcurrentHashMap<>();
    /** Per home that is away: when it may be asked again (System.nanoTime). */
    private final Map<String, AtomicLong> nextProbe = new ConcurrentHashMap<>();
    /** The homes a delivery's probe is out to now: one at a time per home. */
    private final java.util.Set<String> probing = ConcurrentHashMap.newKeySet();
    /** Per peer: when it was last asked (System.nanoTime), for the sweep's order. */
    private final Map<String, Long> lastAsked = new ConcurrentHashMap<>();
    private final AtomicLong probesSent = new AtomicLong();

    /**
     * With the TLS context peers' https:// URLs are checked against (the migration client's), asked
     * for at the first probe, when the components are configured; it may give null (plain HTTP).
     */
    public PeerAvailability(Directory directory, long timeoutMs, long awayProbeIntervalMs,
                            java.util.function.Supplier<javax.net.ssl.SSLContext> tls) {
        this.directory = directory;
        this.timeout = Duration.ofMillis(timeoutMs);
        this.awayProbeIntervalNanos = Duration.ofMillis(awayProbeIntervalMs).toNanos();
        this.tls = tls;
    }

    private synchronized HttpClient http() {
        if (http == null) {
            HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout);
            javax.net.ssl.SSLContext context = tls == null ? null : tls.get();
            http = (context == null ? builder : builder.sslContext(context)).build();
        }
        return http;
    }

    /**
     * FIG. 4 step 435 for one message: returns at once while the home's last answer (a delivery or a
     * probe) was a success, since the POST that follows fails just as clearly if it has gone away
     * since. A home that is away ({@link #away}) is probed by one caller at a time,
     * {@code awayProbeIntervalMs} after the last probe ended; meanwhile every caller gets
     * {@link HomeUnavailable} at once.
     */
    public void requireReachableForDelivery(String home) {
        PeerState state = states.get(home);
        if (state != null && state.reachable()) {
            return;
        }
        AtomicLong next = nextProbe.computeIfAbsent(home, h -> new AtomicLong(System.nanoTime()));
        long now = System.nanoTime();
        // this caller probes; the others wait for its answer: while a probe is out (a home that drops
        // packets holds it for the probe timeout) no other starts, and the next is due an interval after it ended
        boolean probes = next.get() - now <= 0 && probing.add(home);
        if (probes && next.get() - System.nanoTime() > 0) { // a probe ended meanwhile: its answer stands
            probing.remove(home);
            probes = false;
        }
        if (!probes) {
            throw new HomeUnavailable("home server " + home + " is not reachable"
                    + (state == null || state.lastError() == null ? "" : ": " + state.lastError())
                    + (probing.contains(home) ? "; a probe is on its way"
                    : "; asked again in " + Math.max(0, Duration.ofNanos(next.get() - now).toMillis()) + " ms"));
        }
        try {
            requireReachable(home);
        } finally {
            next.set(System.nanoTime() + awayProbeIntervalNanos);
            probing.remove(home);
        }
    }

    /**
     * A delivery attempt found the home away (no answer, or an answer that means "not now"): noted for
     * every consumer, which stop sending until it answers a probe again. Throws {@link HomeUnavailable}.
     */
    public void away(String home, String reason) {
        unreachable(home, reason);
        long due = System.nanoTime() + awayProbeIntervalNanos;
        nextProbe.computeIfAbsent(home, h -> new AtomicLong(due)).accumulateAndGet(due, (a, b) -> a - b > 0 ? a : b);
        throw new HomeUnavailable("home server " + home + " " + reason);
    }

    /** {@link #away} for a request that got no answer (refused, reset, timed out). */
    public void gaveNoAnswer(String home, Throwable failure) {
        away(home, "gave no answer: " + failure.getClass().getSimpleName()
                + (failure.getMessage() == null ? "" : ": " + failure.getMessage()));
    }

    /** {@link #away} for an answer that means "not now" (404 or 503 while it starts or stops, 408, 429, 5xx). */
    public void answeredNotNow(String home, int status, String body) {
        away(home, "answered " + status + (body == null || body.isBlank() ? "" : ": " + body));
    }

    /** Returns when the home answers 200 on /health; throws {@link HomeUnavailable} otherwise. */
    public void requireReachable(String home) {
        String error;
        probesSent.incrementAndGet();
        lastAsked.put(home, System.nanoTime());
        try {
            HttpResponse<Void> response = http().send(HttpRequest.newBuilder(URI.create(directory.urlOf(home) + "/health"))
                    .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() == 200) {
                reachable(home);
                return;
            }
            error = "health answered " + response.statusCode();
        } catch (IOException e) {
            error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        }
        unreachable(home, error);
        throw new HomeUnavailable("home server " + home + " is not reachable: " + error);
    }

    /**
     * The watch-peers route's round: asks after each peer that has messages waiting here
     * ({@code waiting}), and, when the operator set a sweep ({@code vmesh.peers.sweep-interval} above
     * 0), after a share of the others, those asked longest ago first, so that every peer is asked about
     * once per sweep interval at an even rate. A peer that is down is only noted. A company at rest
     * (nothing waiting anywhere, no sweep) sends no probe at all.
     */
    public void probeDue(String site, java.util.Collection<String> waiting, long roundIntervalMs, long sweepIntervalMs) {
        java.util.Set<String> asked = new java.util.HashSet<>();
        for (String home : waiting) {
            if (!home.equals(site) && directory.server(home).isPresent() && asked.add(home)) {
                probeQuietly(home);
            }
        }
        if (sweepIntervalMs <= 0) {
            return;
        }
        java.util.List<Directory.Server> others = directory.servers().stream()
                .filter(s -> !s.id().equals(site) && !asked.contains(s.id())).toList();
        // peers per round so that each is asked once per sweep interval
        long share = (long) Math.ceil(others.size() * (double) Math.max(1, roundIntervalMs) / sweepIntervalMs);
        others.stream()
                .sorted(java.util.Comparator.comparing((Directory.Server s) -> lastAsked.getOrDefault(s.id(), Long.MIN_VALUE)))
                .limit(share)
                .forEach(s -> probeQuietly(s.id()));
    }

    private void probeQuietly(String home) {
        try {
            requireReachable(home);
        } catch (HomeUnavailable noted) {
            // recorded in states(); the migration routes retry on their own
        }
    }

    /** Probes sent since start ({@code GET /health} of a peer): the metric {@code vmesh.peers.probes}. */
    public long probesSent() {
        return probesSent.get();
    }

    /** A peer that left the topology: nothing more is said of it. */
    public void forget(String home) {
        states.remove(home);
        nextProbe.remove(home);
        lastAsked.remove(home);
    }

    /** A delivery attempt answered: the peer is there. */
    public void reachable(String home) {
        PeerState previous = states.get(home);
        states.put(home, new PeerState(true, Instant.now().toString(),
                previous == null ? null : previous.lastError(), previous == null ? null : previous.lastErrorAt()));
    }

    public void unreachable(String home, String error) {
        String now = Instant.now().toString();
        states.put(home, new PeerState(false, now, error, now));
    }

    /**
     * An attempt failed for a reason of its own (not the home's absence): noted, reachability unchanged
     * (a home not heard from yet stays not known to be reachable, so the next attempt probes it first).
     */
    public void failedAttempt(String home, String error) {
        String now = Instant.now().toString();
        states.compute(home, (h, previous) -> new PeerState(previous != null && previous.reachable(),
                previous == null ? now : previous.checkedAt(), error, now));
    }

    public Map<String, PeerState> states() {
        return new TreeMap<>(states);
    }
}
