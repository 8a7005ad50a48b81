package io.vmesh.tools;

import io.vmesh.Vmesh;
import io.vmesh.topology.Directory;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server of the topology as its own process, the way an operator runs it:
 * {@code vmesh --site=ID --config=DIR --routes=DIR --data=DIR} on this JVM's class path, its output
 * appended to a log file.
 */
public final class ServerProcess implements AutoCloseable {

    /** Small heap, serial GC and the quick compiler: three servers and a load generator share a laptop. */
    private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    final Directory.Server server;
    final Path dataDir;
    final Path log;
    private final Path configDir;
    private final Path routesDir;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();
    private Process process;

    public ServerProcess(Directory.Server server, Path configDir, Path routesDir, Path dataDir, Path log) {
        this.server = server;
        this.configDir = configDir;
        this.routesDir = routesDir;
        this.dataDir = dataDir;
        this.log = log;
    }

    String id() {
        return server.id();
    }

    /** The data port's URL, without a trailing slash. */
    String url() {
        return Directory.withoutTrailingSlashes(server.url().toString());
    }

    /** Starts the process and returns at once; {@link #awaitHealthy} waits until it takes calls. */
    ServerProcess start() throws IOException {
        List<String> command = new ArrayList<>(launcher());
        command.addAll(List.of("--site=" + server.id(), "--config=" + configDir, "--routes=" + routesDir, "--data=" + dataDir));
        process = new ProcessBuilder(command)
                .directory(new File(System.getProperty("user.dir")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return this;
    }

    /** Waits until {@code GET /health} answers 200; fails at once if the process exits. */
    void awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isHealthy()) {
            if (!isAlive()) {
                throw new IllegalStateException(server.id() + " exited with " + process.exitValue() + "; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(server.id() + " was not healthy after " + timeout.toSeconds() + " s; see " + log);
            }
            Thread.sleep(200);
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    boolean isHealthy() {
        return answersOk(http, URI.create(url() + "/health"));
    }

    /** Whether a GET of {@code uri} answers 200 within 2 s; false if nothing answers. Shared by the tools and tests that wait for a process. */
    public static boolean answersOk(HttpClient client, URI uri) {
        try {
            return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A polite stop (SIGTERM: Camel finishes what is in flight), then a kill if it takes longer than {@code grace}. */
    void stop(Duration grace) throws InterruptedException {
        if (isAlive()) {
            process.destroy();
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        if (isAlive()) {
            process.destroyForcibly();
        }
    }

    /** Whether something already listens on the server's data or management port. */
    String portInUse() {
        for (URI url : List.of(server.url(), server.management())) {
            int port = url.getPort() > 0 ? url.getPort() : 80;
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(url.getHost(), port), 300);
                return url.getHost() + ":" + port;
            } catch (IOException free) {
                // nothing there: good
            }
        }
        return null;
    }

    /**
     * {@code java -jar} this very jar when this JVM was started so; otherwise (bin/vmesh, an IDE, a
     * test) this JVM's class path.
     */
    private static List<String> launcher() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_OPTIONS);
        Path code;
        try {
            code = Path.of(Vmesh.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            code = null;
        }
        String classPath = System.getProperty("java.class.path");
        if (code != null && Files.isRegularFile(code) && Path.of(classPath).toAbsolutePath().normalize().equals(code)) {
            command.addAll(List.of("-jar", code.toString()));
        } else {
            command.addAll(List.of("-cp", classPath, Vmesh.class.getName()));
        }
        return command;
    }
}
