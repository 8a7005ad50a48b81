package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

import static org.awaitility.Awaitility.await;

/** One vmesh site server started in this JVM exactly as {@code java -jar vmesh.jar} starts it. */
final class SiteServer implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    final String site;
    final TestTopology topology;
    final Path dataDir;
    private Main main;

    SiteServer(TestTopology topology, String site, Path dataDir) {
        this.topology = topology;
        this.site = site;
        this.dataDir = dataDir;
    }

    /**
     * Starts hq alone, its configuration in {@code dir/config} with {@code properties} as its
     * {@code hq.properties} and its data in {@code dir/data}.
     */
    static SiteServer hqAlone(Path dir, String properties) {
        TestTopology topology = new TestTopology(dir.resolve("config")).siteProperties("hq", properties);
        return new SiteServer(topology, "hq", dir.resolve("data")).start();
    }

    /** This site's data port. */
    int dataPort() {
        return topology.dataPorts.get(site);
    }

    SiteServer start() {
        main = Vmesh.create("--site=" + site, "--config=" + topology.configDir, "--data=" + dataDir);
        try {
            main.start();
        } catch (Exception e) {
            throw new IllegalStateException("site " + site + " did not start", e);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> get("/health").statusCode() == 200);
        return this;
    }

    /** The users file the management port checks its login against. */
    String managementUsersFile() {
        return main.configure().httpManagementServer().getBasicPropertiesFile();
    }

    CamelContext context() {
        return main.getCamelContext();
    }

    String brokerUrl() {
        return "vm://vmesh-" + site + "?create=false";
    }

    @Override
    public void close() {
        if (main != null) {
            main.stop();
            main = null;
        }
    }

    HttpResponse<String> postCall(String switchId, String query, byte[] body) {
        return send(HttpRequest.newBuilder(uri("/switch/" + switchId + "/calls?" + query))
                .header("Content-Type", "audio/wav")
                .header("Authorization", Credentials.switchToken(switchId))
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    HttpResponse<String> get(String path) {
        return send(owner(path).GET());
    }

    HttpResponse<byte[]> getBytes(String path) {
        try {
            return HTTP.send(owner(path).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> post(String path) {
        return send(owner(path).POST(HttpRequest.BodyPublishers.noBody()));
    }

    HttpResponse<String> delete(String path) {
        return send(owner(path).DELETE());
    }

    /** A request as the owner of the mailbox in the path would make it (its own PIN, set first); others go as they are. */
    private HttpRequest.Builder owner(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path));
        return path.startsWith("/mailboxes/")
                ? request.header("Authorization", Credentials.claim(HTTP, topology.dataUrl(site), Credentials.extensionOf(path)))
                : request;
    }

    /** Any request, as the test builds it, for what the helpers above do not cover. */
    HttpResponse<String> send(String path, java.util.function.UnaryOperator<HttpRequest.Builder> build) {
        return send(build.apply(HttpRequest.newBuilder(uri(path))));
    }

    private URI uri(String pathAndQuery) {
        return URI.create(topology.dataUrl(site) + pathAndQuery);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every file under the spool and the mailboxes: what a request left on disk. */
    List<Path> storedFiles() {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("spool", "mailboxes")) {
            Path root = dataDir.resolve(dir);
            if (Files.isDirectory(root)) {
                try (Stream<Path> walk = Files.walk(root)) {
                    walk.filter(Files::isRegularFile).forEach(files::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return files;
    }
}
