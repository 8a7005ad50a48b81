package io.vmesh;

import io.vmesh.tools.ServerProcess;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/** A vmesh server as a separate JVM from {@code target/vmesh.jar}, as an operator runs it; killable with -9. */
public final class VmeshProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String site;
    final TestTopology topology;
    public final Path dataDir;
    public final Path log;
    private Process process;
    private HttpClient http = HTTP;
    /** Small heap, serial GC and the quick compiler: several servers, Maven and the tests share two cores. */
    private List<String> jvmOptions = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    /** Other JVM options, e.g. the benchmark's production-like ones. */
    public VmeshProcess withJvmOptions(List<String> options) {
        this.jvmOptions = List.copyOf(options);
        return this;
    }

    /** For a server on https: the client that trusts its certificate. */
    VmeshProcess withClient(HttpClient client) {
        this.http = client;
        return this;
    }

    public VmeshProcess(TestTopology topology, String site, Path dataDir) {
        this.topology = topology;
        this.site = site;
        this.dataDir = dataDir;
        this.log = dataDir.resolveSibling(site + "-" + System.nanoTime() + ".log");
    }

    public static Path jar() {
        return Path.of(System.getProperty("vmesh.jar", "target/vmesh.jar")).toAbsolutePath();
    }

    public VmeshProcess start() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString(),
                "--site=" + site, "--config=" + topology.configDir, "--data=" + dataDir));
        process = new ProcessBuilder(command)
                .directory(new File(System.getProperty("user.dir"))) // routes/ is read from here
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(site + " exited with " + process.exitValue() + "; the end of " + log + ":\n" + tail(log));
            }
            return isHealthy();
        });
        return this;
    }

    /** The last lines of a log, so that a CI report shows why a server did not start. */
    static String tail(Path log) {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException | java.io.UncheckedIOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    public boolean isHealthy() {
        return ServerProcess.answersOk(http, URI.create(topology.dataUrl(site) + "/health"));
    }

    /** The server JVM's process id (while it runs). */
    public long pid() {
        return process.pid();
    }

    /** {@code kill -9}: no shutdown hook, no flush, nothing. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** A polite stop (SIGTERM), as an init system does. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                kill9();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill9();
        }
    }
}
