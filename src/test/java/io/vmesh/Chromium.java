package io.vmesh;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import static org.awaitility.Awaitility.await;

/**
 * Debian's headless Chromium, driven over the Chrome DevTools Protocol (a WebSocket to
 * {@code --remote-debugging-port}): open a page, run JavaScript in it, take a screenshot.
 */
final class Chromium implements AutoCloseable {

    static final Path BINARY = Path.of(System.getProperty("vmesh.chromium", "/usr/bin/chromium"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process process;
    private final WebSocket page;
    private final Map<Integer, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private Chromium(Process process, URI pageSocket) {
        this.process = process;
        this.page = HTTP.newWebSocketBuilder().buildAsync(pageSocket, new Replies()).join();
    }

    /** Starts Chromium with a fresh profile in {@code profile}, its output in {@code log}, a 1400x900 page. */
    static Chromium start(Path profile, Path log) throws Exception {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("no Chromium at " + BINARY + ": this test needs Debian's chromium package"
                    + " (apt-get install chromium; .ci/run installs it)");
        }
        Files.createDirectories(profile);
        Process process = new ProcessBuilder(BINARY.toString(),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1400,900", "about:blank")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        try {
            // Chromium writes the port it picked, then the browser's path, to DevToolsActivePort in the profile
            Path activePort = profile.resolve("DevToolsActivePort");
            AtomicReference<URI> pageSocket = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Chromium exited with " + process.exitValue() + "; see " + log);
                }
                List<String> lines = Files.exists(activePort) ? Files.readAllLines(activePort) : List.of();
                if (lines.size() < 2) {
                    return false;
                }
                String targets = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lines.get(0).trim() + "/json/list"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                for (JsonNode target : JSON.readTree(targets)) {
                    if ("page".equals(target.path("type").asText())) {
                        pageSocket.set(URI.create(target.get("webSocketDebuggerUrl").asText()));
                        return true;
                    }
                }
                return false;
            });
            Chromium chromium = new Chromium(process, pageSocket.get());
            chromium.call("Emulation.setDeviceMetricsOverride", Map.of("width", 1400, "height", 900, "deviceScaleFactor", 1, "mobile", false));
            return chromium;
        } catch (Exception | Error e) {
            destroy(process);
            throw e;
        }
    }

    void navigate(String url) {
        call("Page.navigate", Map.of("url", url));
    }

    /** The value of a JavaScript expression in the page, as JSON ({@code null} when it throws or is undefined). */
    JsonNode evaluate(String expression) {
        JsonNode result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        return result.has("exceptionDetails") ? null : result.path("result").get("value");
    }

    void screenshot(Path png) throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(call("Page.captureScreenshot", Map.of("format", "png")).get("data").asText()));
    }

    private JsonNode call(String method, Map<String, Object> params) {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        replies.put(id, reply);
        try {
            page.sendText(JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params)), true).join();
            JsonNode message = reply.get(60, TimeUnit.SECONDS);
            if (message.has("error")) {
                throw new IllegalStateException(method + " failed: " + message.get("error"));
            }
            return message.get("result");
        } catch (Exception e) {
            throw new IllegalStateException(method + " got no answer from Chromium", e);
        } finally {
            replies.remove(id);
        }
    }

    /** Answers to our calls, matched by id; events are not used. */
    private final class Replies implements WebSocket.Listener {

        private final StringBuilder message = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                try {
                    JsonNode json = JSON.readTree(message.toString());
                    CompletableFuture<JsonNode> reply = json.has("id") ? replies.get(json.get("id").asInt()) : null;
                    if (reply != null) {
                        reply.complete(json);
                    }
                } catch (IOException e) {
                    replies.values().forEach(reply -> reply.completeExceptionally(e));
                }
                message.setLength(0);
            }
            socket.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        page.abort();
        destroy(process);
    }

    private static void destroy(Process process) {
        List<ProcessHandle> children = process.descendants().toList(); // renderer, GPU and zygote processes
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }
}
