package io.vmesh;

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

/**
 * FIG. 4 step 435's network proxy: is the home server reachable? Asks its {@code GET /health} with
 * a short timeout and remembers the answer per server, for {@code /migrations} and readiness.
 */
public final class PeerAvailability {

    /** What is known of a peer: when it last answered, and the last error if it did not. */
    public record PeerState(boolean reachable, String checkedAt, String lastError, String lastErrorAt) {
    }

    private final Directory directory;
    private final Duration timeout;
    private final java.util.function.Supplier<javax.net.ssl.SSLContext> tls;
    private HttpClient http;
    private final Map<String, PeerState> states = new ConcurrentHashMap<>();

    public PeerAvailability(Directory directory, long timeoutMs) {
        this(directory, timeoutMs, null);
    }

    /**
     * With the TLS context peers' https:// URLs are checked against (the migration client's), asked
     * for at the first probe, when the components are configured; it may give null (plain HTTP).
     */
    public PeerAvailability(Directory directory, long timeoutMs, java.util.function.Supplier<javax.net.ssl.SSLContext> tls) {
        this.directory = directory;
        this.timeout = Duration.ofMillis(timeoutMs);
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
     * since; otherwise probes it. A failed delivery marks the home unreachable
     * ({@link #unreachable}), so the retry probes before it sends again.
     */
    public void requireReachableForDelivery(String home) {
        PeerState state = states.get(home);
        if (state == null || !state.reachable()) {
            requireReachable(home);
        }
    }

    /** Returns when the home answers 200 on /health; throws {@link HomeUnavailable} otherwise. */
    public void requireReachable(String home) {
        String error;
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

    /** Probes every peer once, for the watch-peers route; a peer that is down is only noted. */
    public void probeAll(String site) {
        for (Directory.Server server : directory.servers()) {
            if (!server.id().equals(site)) {
                try {
                    requireReachable(server.id());
                } catch (HomeUnavailable noted) {
                    // recorded in states(); the migration routes retry on their own
                }
            }
        }
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

    public Map<String, PeerState> states() {
        return new TreeMap<>(states);
    }
}
