package io.vmesh;

import java.io.File;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code java -jar vmesh.jar demo} end to end, on a topology of free ports and with short timings. */
class OutageDemoIT {

    @TempDir
    Path dir;

    @Test
    void demoRunsThroughAnOutageAndEndsWithEveryMessageInExactlyOneHomeMailbox() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config"));
        Path data = dir.resolve("demo");
        Path log = dir.resolve("demo.out");
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", VmeshProcess.jar().toString(), "demo",
                "--config", topology.configDir.toString(), "--data", data.toString(),
                "--calls", "30", "--outage-seconds", "5")
                .directory(new File(System.getProperty("user.dir"))) // the servers read routes/ from here
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished;
        try {
            finished = demo.waitFor(5, TimeUnit.MINUTES);
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
        String output = Files.readString(log);
        System.out.println(output);

        assertThat(finished).as(output).isTrue();
        assertThat(demo.exitValue()).as(output).isZero();
        assertThat(output).contains("demo OK");
        Matcher everyOne = Pattern.compile("every one of the (\\d+) acknowledged messages is in exactly one mailbox").matcher(output);
        assertThat(everyOne.find()).as(output).isTrue();
        int acknowledged = Integer.parseInt(everyOne.group(1));
        assertThat(acknowledged).isGreaterThan(30); // 60 calls, a fifth of them answered
        Matcher peak = Pattern.compile("east's backlog peaked at (\\d+) messages").matcher(output);
        assertThat(peak.find()).as(output).isTrue();
        assertThat(Integer.parseInt(peak.group(1))).as("messages that waited for east").isPositive();
        assertThat(output).containsPattern("east-sw1 .* 10 accepted .* 10 failovers"); // during the outage

        // what the demo reported, checked on disk: each message once, in its extension's mailbox on its home
        Map<String, List<String>> places = new HashMap<>();
        for (String site : topology.dataPorts.keySet()) {
            try (Stream<Path> files = Files.walk(data.resolve(site + "/mailboxes"))) {
                files.filter(f -> f.toString().endsWith(".json") && !f.getFileName().toString().startsWith(".part-"))
                        .forEach(f -> places.computeIfAbsent(f.getFileName().toString().replace(".json", ""),
                                id -> new ArrayList<>()).add(site + "/" + f.getParent().getFileName()));
            }
            assertThat(spooled(data.resolve(site + "/spool"))).as("left in the spool of " + site).isEmpty();
        }
        assertThat(places).hasSize(acknowledged);
        places.forEach((id, where) -> {
            assertThat(where).as(id).hasSize(1);
            String extension = where.get(0).substring(where.get(0).indexOf('/') + 1);
            String home = extension.startsWith("1") ? "hq" : extension.startsWith("2") ? "east" : "west";
            assertThat(where.get(0)).as(id).startsWith(home + "/");
        });
        // and every server was stopped
        for (String site : topology.dataPorts.keySet()) {
            assertThat(answers(topology.dataUrl(site) + "/health")).as(site + " still answers").isFalse();
        }
    }

    private static List<Path> spooled(Path spool) {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(f -> f.toString().endsWith(".json")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean answers(String url) {
        try {
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()
                    .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding());
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
