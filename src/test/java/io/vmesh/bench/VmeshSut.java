package io.vmesh.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.vmesh.TestTopology;
import io.vmesh.VmeshProcess;

/** vmesh as it runs: target/vmesh.jar, one JVM per site (VmeshProcess, with Sut.JVM_OPTIONS), embedded broker, on a TestTopology. */
final class VmeshSut implements Sut {

    private final Path root;
    private final TestTopology topology;
    private final Map<String, VmeshProcess> processes = new LinkedHashMap<>();

    VmeshSut(Path root) throws Exception {
        this(root, "");
    }

    /** The same, with more vmesh properties for every site ({@code key = value} lines). */
    VmeshSut(Path root, String moreOverrides) throws Exception {
        this.root = Sut.separateSites(root);
        this.topology = new TestTopology(root.resolve("config"));
        // the per-switch rate limit (50/s) protects a server from one runaway switch; the benchmark's 16
        // clients stand for many switches, so the limit is raised here, in the per-site overrides only.
        // Not higher than needed: Camel's throttle allocates one permit object per call per second and
        // switch, so 1,000,000/s held 96 MB of A's 256 MB heap (docs/performance.md)
        String limit = System.getProperty("bench.maxCallsPerSecond", "1000");
        // -Dbench.vmesh.<key>=<value> sets any other vmesh property on every site, for experiments
        StringBuilder overrides = new StringBuilder("vmesh.switch.max-calls-per-second = " + limit + "\n");
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("bench.vmesh.")).sorted()
                .forEach(k -> overrides.append(k.substring("bench.vmesh.".length())).append(" = ").append(System.getProperty(k)).append('\n'));
        overrides.append(moreOverrides);
        for (String site : new String[] {"hq", "east", "west"}) {
            topology.siteProperties(site, overrides.toString());
        }
    }

    @Override
    public String name() {
        return "vmesh";
    }

    @Override
    public void start() throws Exception {
        start("hq");
        start("east");
    }

    @Override
    public void start(String site) throws Exception {
        VmeshProcess p = new VmeshProcess(topology, site, Sut.siteDirectory(root, site)).withJvmOptions(Sut.JVM_OPTIONS);
        processes.put(site, p);
        p.start();
    }

    @Override
    public void stop(String site) throws Exception {
        processes.remove(site).stop();
    }

    @Override
    public String dataUrl(String site) {
        return topology.dataUrl(site);
    }

    /** The site's SIP address, {@code 127.0.0.1:port}. */
    String sipAddress(String site) {
        return topology.sipAddress(site);
    }

    @Override
    public Path mailboxes(String site) {
        return Sut.siteDirectory(root, site).resolve("mailboxes");
    }

    /** VmeshProcess keeps its Process to itself: the child JVM is found by its command line. */
    @Override
    public long pid(String site) {
        String config = "--config=" + topology.configDir;
        return ProcessHandle.current().descendants()
                .filter(h -> h.info().commandLine().map(c -> c.contains("--site=" + site + " ") && c.contains(config)).orElse(false))
                .findFirst().orElseThrow(() -> new IllegalStateException("no vmesh process for " + site)).pid();
    }

    @Override
    public void close() throws Exception {
        for (VmeshProcess p : processes.values()) {
            p.stop();
        }
        processes.clear();
    }
}
