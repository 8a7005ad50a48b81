package io.vmesh.migration;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.Variable;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration route of each home server that has messages waiting, from the route template
 * {@code migrate-voicemail} in {@code routes/}: a queue and consumers per home, so a home that is
 * down holds up no message for a home that is up.
 * <p>
 * A home with nothing waiting has no route and costs no thread: its route is added when a message
 * is queued for it ({@link #consumersFor}, from the queue-migration route, and at start-up for
 * every home with a backlog in the spool or on the broker), and removed once nothing has waited
 * for it for {@code vmesh.migration.idle-stop-after}. One thread adds and removes routes, so an
 * addition and a removal for the same home never cross. More threads would not add routes sooner:
 * Camel adds and starts one route at a time (its model is locked meanwhile), even those of one
 * RouteBuilder. A home's route only consumes its queue and hands each entry to the shared route
 * {@code migrate-message}: adding one costs 8-10 ms of CPU once warm (18-21 ms while it held every
 * step itself), half of it registering its MBeans (kept: an operator sees each home's route in
 * Hawtio and in Camel's per-route metrics).
 */
public final class MigrationRoutes implements StartupListener {

    private static final Logger LOG = LoggerFactory.getLogger(MigrationRoutes.class);
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private final String site;
    private final Supplier<MigrationBacklog> backlog;
    private final Supplier<Collection<String>> homesOnTheBroker;
    private final long idleStopAfterNanos;
    /** Homes whose route runs (or is being added), with when a message was last queued for each (System.nanoTime). */
    private final Map<String, Long> running = new ConcurrentHashMap<>();
    private volatile CamelContext context;
    private volatile ScheduledExecutorService changes;
    private volatile boolean added;

    /**
     * @param homesOnTheBroker the homes whose queue on the broker holds entries at start-up (an entry
     *                         whose message the spool no longer counts for that home still needs its consumer)
     */
    public MigrationRoutes(String site, Supplier<MigrationBacklog> backlog, Supplier<Collection<String>> homesOnTheBroker,
                           long idleStopAfterMs) {
        this.site = site;
        this.backlog = backlog;
        this.homesOnTheBroker = homesOnTheBroker;
        this.idleStopAfterNanos = Duration.ofMillis(idleStopAfterMs).toNanos();
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        // routes are added once the template is loaded: see onCamelContextFullyStarted
    }

    @Override
    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
        if (changes != null) {
            return; // once per start of the context
        }
        changes = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "vmesh-migration-routes");
        this.context = context;
        Set<String> homes = new java.util.TreeSet<>(backlog.get().waitingHomes());
        homes.addAll(homesOnTheBroker.get());
        homes.addAll(running.keySet()); // queued while the context was starting
        for (String home : homes) {
            long now = System.nanoTime();
            running.put(home, now);
            add(home, now);
        }
        long period = Math.max(1, TimeUnit.NANOSECONDS.toMillis(idleStopAfterNanos) / 4);
        changes.scheduleWithFixedDelay(this::removeIdle, period, period, TimeUnit.MILLISECONDS);
        added = true;
        LOG.info("Migration routes started for {} home server(s) with messages waiting{}", homes.size(), homes.isEmpty() ? "" : ": " + homes);
    }

    /**
     * A message is being queued for {@code home}: its route runs, or is added now (its consumers
     * start on another thread, within moments). Counted as waiting before this is called.
     */
    public void consumersFor(@Variable("home") String home) {
        if (home.equals(site)) {
            return;
        }
        long now = System.nanoTime();
        if (running.put(home, now) == null && context != null) {
            changes.execute(() -> add(home, now));
        }
    }

    /** @param asked when a message asked for the route (System.nanoTime): the log line says how long its consumers took */
    private synchronized void add(String home, long asked) {
        String id = routeId(home);
        try {
            if (context.getRoute(id) == null) {
                long cpu = CPU.getCurrentThreadCpuTime();
                TemplatedRouteBuilder.builder(context, "migrate-voicemail").routeId(id).parameter("home", home).add();
                LOG.info("Migration route {} added: messages wait for {}; its consumers started {} ms after it was asked for ({} ms of CPU)",
                        id, home, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked),
                        TimeUnit.NANOSECONDS.toMillis(CPU.getCurrentThreadCpuTime() - cpu));
            } else if (!context.getRouteController().getRouteStatus(id).isStarted()) {
                context.getRouteController().startRoute(id); // left stopped by a removal that failed half-way
                LOG.info("Migration route {} started again: messages wait for {}", id, home);
            }
        } catch (Exception e) {
            // the home stays listed: the idle sweep tries again while messages wait for it
            LOG.error("Cannot add the migration route {}: {}; tried again within {} s while messages wait for {}",
                    id, e.getMessage(), TimeUnit.NANOSECONDS.toSeconds(idleStopAfterNanos), home, e);
        }
    }

    /** The routes of homes nothing has waited for since {@code idle-stop-after}: stopped and removed. */
    private synchronized void removeIdle() {
        long now = System.nanoTime();
        for (Map.Entry<String, Long> home : running.entrySet()) {
            if (now - home.getValue() < idleStopAfterNanos) {
                continue;
            }
            // off the list first, then the backlog looked at: a message queued meanwhile either sees
            // the route gone (and asks for it again, after this) or is counted in the backlog here
            if (!running.remove(home.getKey(), home.getValue())) {
                continue;
            }
            if (backlog.get().pending(home.getKey()) > 0) {
                running.putIfAbsent(home.getKey(), home.getValue());
                add(home.getKey(), now); // a route whose adding failed, or that a failed removal left stopped
                continue;
            }
            String id = routeId(home.getKey());
            try {
                if (context.getRoute(id) != null) {
                    context.getRouteController().stopRoute(id);
                    context.removeRoute(id);
                    LOG.info("Migration route {} removed: nothing has waited for {} for {} s", id, home.getKey(),
                            TimeUnit.NANOSECONDS.toSeconds(idleStopAfterNanos));
                }
            } catch (Exception e) {
                running.putIfAbsent(home.getKey(), now);
                LOG.warn("Cannot remove the idle migration route {}: {}", id, e.getMessage());
                add(home.getKey(), now); // stopped but not removed: running again, to be removed at a later sweep
            }
        }
    }

    /** The homes whose migration route runs now. */
    public Set<String> runningHomes() {
        return Set.copyOf(running.keySet());
    }

    public static String routeId(String home) {
        return "migrate-to-" + home;
    }

    /**
     * Whether start-up has added the routes of the homes with messages waiting. Until then their
     * consumers' health checks do not exist yet: readiness waits for this, so it never turns UP, then DOWN.
     */
    public boolean added() {
        return added;
    }
}
