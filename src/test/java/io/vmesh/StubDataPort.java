package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in for a server's data port that answers every call at once: like vmesh (200 for an
 * answered call, 201 with a message id otherwise), or always with one status. Remembers each call's
 * parameters and body size, so a test sees exactly what the switch sent.
 */
final class StubDataPort implements AutoCloseable {

    /** One call as the stub received it. */
    record Received(String switchId, Map<String, String> query, int bodyBytes) {
    }

    final List<Received> calls = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    /** Answers like vmesh when {@code status} is 0, otherwise always with {@code status}. */
    StubDataPort(int status) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/switch/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, String> query = new LinkedHashMap<>();
            for (String pair : exchange.getRequestURI().getRawQuery().split("&")) {
                String[] kv = pair.split("=", 2);
                query.put(kv[0], kv.length == 2 ? kv[1] : "");
            }
            String switchId = exchange.getRequestURI().getPath().split("/")[2];
            calls.add(new Received(switchId, query, body.length));
            int answer = status != 0 ? status : "ANSWERED".equals(query.get("state")) ? 200 : 201;
            String json = answer == 200 ? "{\"callId\":\"" + query.get("callId") + "\",\"disposition\":\"NORMAL\"}"
                    : answer == 201 ? "{\"callId\":\"" + query.get("callId") + "\",\"disposition\":\"VOICEMAIL\",\"messageId\":\"stub-"
                    + calls.size() + "\",\"home\":\"stub\",\"delivery\":\"LOCAL\"}"
                    : "{\"error\":\"the stub answers " + answer + "\"}";
            byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
