package io.vmesh;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The vmesh processes a test creates, each with its data in {@code data-<site>} of the test's
 * directory, all killed after each test whatever it left running. Register it as
 * {@code @RegisterExtension final VmeshProcesses processes = new VmeshProcesses();}.
 */
final class VmeshProcesses implements AfterEachCallback {

    private final List<VmeshProcess> processes = new ArrayList<>();

    /** A server for {@code site}, not started yet, killed after the test. */
    VmeshProcess server(TestTopology topology, String site, Path dir) {
        VmeshProcess p = new VmeshProcess(topology, site, dir.resolve("data-" + site));
        processes.add(p);
        return p;
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        for (VmeshProcess p : processes) {
            p.close();
        }
        processes.clear();
    }
}
