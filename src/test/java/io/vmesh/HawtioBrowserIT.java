package io.vmesh;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hawtio 4, started as the operator starts it, shows a running server's routes, their statistics and
 * a route's diagram in a real (headless) browser, through the server's restricted Jolokia endpoint.
 * Screenshots go to {@code target/screenshots/} (the ones in {@code docs/images/} come from here).
 */
class HawtioBrowserIT {

    private static final Path SCREENSHOTS = Path.of("target/screenshots");
    private static final List<String> ROUTE_IDS = List.of("switch-intake", "call-status", "record-voicemail", "resolve-home");

    @TempDir
    Path dir;

    @Test
    void hawtioShowsTheRoutesOfARunningServerWithTheirStatisticsAndDiagram() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        try (Chromium browser = Chromium.start(dir.resolve("chromium-profile"), dir.resolve("chromium.log")); // first: fails fast without it
             VmeshProcess hq = new VmeshProcess(topology, "hq", dir.resolve("data")).start();
             HawtioProcess hawtio = new HawtioProcess(dir.resolve("hawtio.log"),
                     "hq=" + topology.managementUrl("hq") + "/observe/jolokia").start()) {
            // one unanswered call, so that the statistics are not all zero
            var call = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq")
                            + "/switch/hq-sw1/calls?callId=h-1&from=5550700&to=1700&state=NO_ANSWER"))
                    .header("Authorization", Credentials.switchToken("hq-sw1"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-01.wav"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(call.statusCode()).as(call.body()).isEqualTo(201);

            // the operator's page: it stores the connection to hq in the browser and opens Hawtio's Camel view
            browser.navigate(hawtio.url() + "/");
            awaitPage(browser, "the Camel tree lists the vmesh routes", () -> {
                String text = pageText(browser);
                return ROUTE_IDS.stream().allMatch(text::contains);
            });

            // Camel > routes: every route with its counters; call-status has seen our call
            click(browser, ".pf-v5-c-tree-view__node-text", "routes");
            awaitPage(browser, "the routes table counts the call in call-status", () -> {
                JsonNode total = browser.evaluate("""
                        (() => {
                          const heads = [...document.querySelectorAll('table thead th')].map(h => h.innerText.trim());
                          const row = [...document.querySelectorAll('table tbody tr')]
                              .map(r => [...r.cells].map(c => c.innerText.trim()))
                              .find(cells => cells[heads.indexOf('Name')] === 'call-status');
                          return row ? Number(row[heads.indexOf('Total')]) : null;
                        })()""");
                return total != null && total.asInt() >= 1;
            });
            assertThat(pageText(browser)).contains("Completed", "Failed", "Total", "Meantime");
            browser.screenshot(SCREENSHOTS.resolve("hawtio-routes.png"));

            // Camel > routes > call-status > Route Diagram: the route drawn, with its counters
            click(browser, ".pf-v5-c-tree-view__node-text", "call-status");
            click(browser, "a.pf-v5-c-nav__link", "Route Diagram");
            awaitPage(browser, "the diagram of call-status is drawn", () -> {
                JsonNode nodes = browser.evaluate("[...document.querySelectorAll('.react-flow__node')].map(n => n.innerText)");
                return nodes != null && nodes.size() >= 5 && nodes.toString().contains("Choice");
            });
            browser.screenshot(SCREENSHOTS.resolve("hawtio-route-diagram.png"));
        }
    }

    private static String pageText(Chromium browser) {
        JsonNode text = browser.evaluate("document.body ? document.body.innerText : ''");
        return text == null ? "" : text.asText();
    }

    /** Clicks the first element matching {@code selector} whose text is {@code text}, once it is there. */
    private static void click(Chromium browser, String selector, String text) throws Exception {
        String script = "(() => { const e = [...document.querySelectorAll('" + selector + "')]"
                + ".find(e => e.textContent.trim() === '" + text + "'); if (e) { e.click(); } return !!e; })()";
        awaitPage(browser, "'" + text + "' can be clicked", () -> browser.evaluate(script).asBoolean());
    }

    /** Waits for the page; if it never gets there, keeps a screenshot and says what the page showed. */
    private static void awaitPage(Chromium browser, String what, Callable<Boolean> condition) throws Exception {
        try {
            await(what).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptionsInstanceOf(NullPointerException.class).until(condition);
        } catch (ConditionTimeoutException e) {
            browser.screenshot(SCREENSHOTS.resolve("hawtio-failure.png"));
            throw new AssertionError("Hawtio never showed " + what + " (screenshot "
                    + SCREENSHOTS.resolve("hawtio-failure.png") + "); the page said:\n" + pageText(browser), e);
        }
    }
}
