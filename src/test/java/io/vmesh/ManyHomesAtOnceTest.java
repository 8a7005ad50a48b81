package io.vmesh;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.vmesh.migration.MigrationRoutes;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Messages queued for many homes at once, none of which had a migration route: each home gets its
 * route, and its consumer takes its message, one addition after another on hq's one route thread.
 */
class ManyHomesAtOnceTest {

    private static final int HOMES = 16;
    /**
     * What adding one route may take on a loaded machine: about 10 ms of CPU once warm, 0.1-2.2 s
     * each with 12 servers on these 2 cores (ScaleBench). Routes are added one at a time, so the
     * last home waits for all the others: the bound is HOMES times this.
     */
    private static final Duration ONE_ROUTE_UNDER_LOAD = Duration.ofMillis(2500);

    @TempDir
    Path dir;

    @Test
    void sixteenHomesQueuedAtOnceEachGetTheirRouteAndItsConsumerTakesTheirMessage() throws Exception {
        TestTopology t = new TestTopology(dir.resolve("config"));
        new LargeTopology(t, 40); // site-004 ... site-040, none of them running: every message waits
        List<Integer> homes = new ArrayList<>();
        for (int n = 10; n < 10 + HOMES; n++) {
            homes.add(n);
        }
        try (SiteServer hq = new SiteServer(t, "hq", dir.resolve("data")).start()) {
            Map<String, Long> firstExchange = new ConcurrentHashMap<>();
            hq.context().getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
                @Override
                public void notify(CamelEvent event) {
                    if (event instanceof CamelEvent.ExchangeCreatedEvent created && created.getExchange().getFromRouteId() != null) {
                        firstExchange.putIfAbsent(created.getExchange().getFromRouteId(), System.nanoTime());
                    }
                }
            });

            ExecutorService switches = Executors.newFixedThreadPool(HOMES);
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            long queued = System.nanoTime();
            for (int n : homes) {
                calls.add(switches.submit(() -> hq.postCall("hq-sw1", "callId=many-" + n + "&from=5551500&to="
                        + LargeTopology.firstExtension(n) + "&state=NO_ANSWER", Audio.resource("speech-03.wav"))));
            }
            for (Future<HttpResponse<String>> call : calls) {
                assertThat(call.get().statusCode()).as(call.get().body()).isEqualTo(201);
                assertThat(call.get().body()).contains("\"delivery\":\"QUEUED\"");
            }
            switches.shutdown();

            await().atMost(ONE_ROUTE_UNDER_LOAD.multipliedBy(HOMES)).untilAsserted(() -> {
                for (int n : homes) {
                    String route = MigrationRoutes.routeId(LargeTopology.siteId(n));
                    assertThat(hq.context().getRouteController().getRouteStatus(route)).as(route).isNotNull()
                            .matches(status -> status.isStarted(), "started");
                    assertThat(firstExchange).as("the consumer of " + route + " took its message").containsKey(route);
                }
            });
            long last = homes.stream().mapToLong(n -> firstExchange.get(MigrationRoutes.routeId(LargeTopology.siteId(n)))).max().orElseThrow();
            System.out.printf("%d homes queued at once: the last consumer took its message %d ms after the calls were sent%n",
                    HOMES, Duration.ofNanos(last - queued).toMillis());

            // a home nothing waits for has no route; each home's backlog is in the metrics (its route is not: see application.properties)
            assertThat(hq.context().getRoute(MigrationRoutes.routeId(LargeTopology.siteId(30)))).isNull();
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(t.managementUrl("hq") + "/observe/metrics"))
                    .header("Authorization", Credentials.management()).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (int n : homes) {
                assertThat(metrics).contains("vmesh_migrations_pending{home=\"" + LargeTopology.siteId(n) + "\"} 1.0");
            }
        }
    }
}
