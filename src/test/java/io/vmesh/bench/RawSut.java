package io.vmesh.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.vmesh.TestTopology;

/** The raw-JDK baseline: one RawBaseline JVM per site, with the same JVM options VmeshProcess gives vmesh. */
final class RawSut implements Sut {

    private final Path root;
    private final int forwarders;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, Process> processes = new LinkedHashMap<>();

    RawSut(Path root, int forwarders) throws Exception {
        this.root = Sut.separateSites(root);
        this.forwarders = forwarders;
        for (String site : new String[] {"hq", "east", "west"}) {
            ports.put(site, TestTopology.freePort());
        }
    }

    @Override
    public String name() {
        return "raw";
    }

    @Override
    public void start() throws Exception {
        start("hq");
        start("east");
    }

    @Override
    public void start(String site) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Sut.JVM_OPTIONS); // as VmeshSut starts vmesh
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), RawBaseline.class.getName(),
                "--site=" + site, "--port=" + ports.get(site), "--data=" + Sut.siteDirectory(root, site),
                "--forwarders=" + forwarders));
        for (String peer : ports.keySet()) {
            if (!peer.equals(site)) {
                command.add("--peer=" + peer + "=" + dataUrl(peer));
            }
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(site + ".log").toFile()))
                .directory(new File(System.getProperty("user.dir"))).start();
        processes.put(site, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Sut.healthy(dataUrl(site))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("raw " + site + " did not start; see " + root.resolve(site + ".log"));
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void stop(String site) throws Exception {
        Process p = processes.remove(site);
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public String dataUrl(String site) {
        return "http://127.0.0.1:" + ports.get(site);
    }

    @Override
    public Path mailboxes(String site) {
        return Sut.siteDirectory(root, site).resolve("mailboxes");
    }

    @Override
    public long pid(String site) {
        return processes.get(site).pid();
    }

    @Override
    public void close() throws Exception {
        for (Process p : processes.values()) {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        processes.clear();
    }
}
