package io.vmesh;

import io.vmesh.tools.ServerProcess;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The distribution {@code mvn package} makes (target/vmesh-&lt;version&gt;/), run as an operator runs
 * it: {@code bin/vmesh} started from a working directory of its own, far from the installation.
 */
class DistributionIT {

    private static final Path DIST = Path.of(System.getProperty("vmesh.dist", "target/vmesh-0.1.0-SNAPSHOT")).toAbsolutePath();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    @Test
    void everyCommandAnswersHelpWithItsUsageAndExitsZero() throws Exception {
        for (String command : List.of("", "switch", "demo")) {
            Run run = vmesh(command.isEmpty() ? List.of("--help") : List.of(command, "--help"));
            assertThat(run.exit()).as(command).isZero();
            assertThat(run.out()).as(command).startsWith(("usage: vmesh " + command).trim());
            assertThat(run.err()).as(command).isEmpty();
        }
    }

    @Test
    void theTarballUnpackedElsewhereRunsThroughASymbolicLinkToItsLauncher() throws Exception {
        Path tarball = DIST.resolveSibling(DIST.getFileName() + ".tar.gz");
        Path opt = Files.createDirectories(dir.resolve("opt"));
        Process untar = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", opt.toString()).inheritIO().start();
        assertThat(untar.waitFor(60, TimeUnit.SECONDS) && untar.exitValue() == 0).as("tar xzf " + tarball).isTrue();
        Path launcher = opt.resolve(DIST.getFileName()).resolve("bin/vmesh");
        assertThat(Files.isExecutable(launcher)).isTrue();
        Path link = Files.createSymbolicLink(dir.resolve("vmesh"), launcher);

        Run run = run(List.of(link.toString(), "--help"));

        assertThat(run.exit()).isZero();
        assertThat(run.out()).startsWith("usage: vmesh");
    }

    @Test
    void anUnknownOptionIsOneLineOfErrorAndExitTwo() throws Exception {
        for (List<String> args : List.of(List.of("--colour=red"), List.of("switch", "--colour", "red"), List.of("demo", "--colour=red"))) {
            Run run = vmesh(args);
            assertThat(run.exit()).as(args.toString()).isEqualTo(2);
            assertThat(run.err().lines()).as(args.toString()).singleElement().asString().contains("unknown option --colour");
            assertThat(run.out()).isEmpty();
        }
    }

    @Test
    void aMissingRoutesDirectoryIsOneLineOfErrorAndExitTwo() throws Exception {
        Run run = vmesh(List.of("--routes=" + dir.resolve("no-routes")));

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().lines()).singleElement().asString()
                .isEqualTo("vmesh: no routes directory " + dir.resolve("no-routes") + " (give --routes=DIR)");
    }

    @Test
    void startedFromAnotherDirectoryItReadsTheInstallationsRoutesAndKeepsItsDataInTheWorkingDirectory() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("etc"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Path log = dir.resolve("hq.log");
        Process server = new ProcessBuilder(List.of(DIST.resolve("bin/vmesh").toString(), "--site=hq", "--config=" + topology.configDir))
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI health = URI.create(topology.dataUrl("hq") + "/health");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                assertThat(server.isAlive()).as("running; its log:\n%s", Files.readString(log)).isTrue();
                return ServerProcess.answersOk(HTTP, health);
            });
            HttpResponse<String> call = HTTP.send(HttpRequest.newBuilder(URI.create(topology.dataUrl("hq")
                            + "/switch/hq-sw1/calls?callId=dist-1&from=1&to=1100&state=BUSY"))
                    .header("Authorization", Credentials.switchToken("hq-sw1")).header("Content-Type", "audio/wav")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-03.wav"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(call.statusCode()).as(call.body()).isEqualTo(201);
            try (var files = Files.list(work.resolve("data/hq/mailboxes/1100"))) {
                assertThat(files.map(f -> f.getFileName().toString())).anyMatch(name -> name.endsWith(".json"));
            }
        } finally {
            server.destroy(); // SIGTERM: Camel stops gracefully
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    private Run vmesh(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(DIST.resolve("bin/vmesh").toString()));
        command.addAll(args);
        return run(command);
    }

    /** Runs a command in the test's directory to its end; its exit code and what it printed. */
    private Run run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process process = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s ends", command).isTrue();
        return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
