package io.vmesh;

import io.vmesh.tools.ServerProcess;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** The Hawtio console as an operator starts it, {@code java -jar target/hawtio/vmesh-hawtio.jar}, in a JVM of its own. */
final class HawtioProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final int port = TestTopology.freePort();
    private final Path log;
    private final String connection;
    private Process process;

    /** {@code connection} is the launcher's {@code --connect NAME=JOLOKIA_URL}. */
    HawtioProcess(Path log, String connection) {
        this.log = log;
        this.connection = connection;
    }

    static Path jar() {
        return Path.of(System.getProperty("vmesh.hawtio.jar", "target/hawtio/vmesh-hawtio.jar")).toAbsolutePath();
    }

    HawtioProcess start() throws IOException {
        process = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar().toString(), "--port", String.valueOf(port), "--connect", connection)
                .directory(new File(System.getProperty("user.dir")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("Hawtio exited with " + process.exitValue() + "; see " + log);
            }
            return isUp();
        });
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    private boolean isUp() {
        return ServerProcess.answersOk(HTTP, URI.create(url() + "/hawtio/"));
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy(); // Jetty stops and removes the war it unpacked
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
