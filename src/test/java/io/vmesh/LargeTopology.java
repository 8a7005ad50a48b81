package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A company of many sites on a {@link TestTopology}'s config directory: its hq, east and west (with
 * their switches and extension ranges) and as many more servers as asked, {@code site-004},
 * {@code site-005}, ..., each home to the range {@code 100000 + n * 100} to {@code + 99}, on free
 * loopback ports where nothing listens unless a test starts that server. Servers and ranges can be
 * added, removed and moved, and the file rewritten as an operator's tool would (a new file renamed
 * over the old one).
 */
public final class LargeTopology {

    public final TestTopology topology;
    /** id -> switches ("" for none), in the order of the file. */
    private final Map<String, String> servers = new LinkedHashMap<>();
    /** range -> home, in the order of the file (first match wins). */
    private final Map<String, String> ranges = new LinkedHashMap<>();

    public LargeTopology(TestTopology topology, int serverCount) {
        this.topology = topology;
        servers.put("hq", "hq-sw1, hq-sw2, branch-sw1, branch-sw2");
        servers.put("east", "east-sw1");
        servers.put("west", "west-sw1");
        ranges.put("1999-1999", "hq");
        ranges.put("1000-1999", "hq");
        ranges.put("2000-2999", "east");
        ranges.put("3000-3999", "west");
        for (int n = 4; n <= serverCount; n++) {
            addServer(siteId(n));
            ranges.put(firstExtension(n) + "-" + (firstExtension(n) + 99), siteId(n));
        }
        write();
    }

    public static String siteId(int n) {
        return String.format("site-%03d", n);
    }

    /** The first extension homed on site-NNN. */
    public static long firstExtension(int n) {
        return 100_000L + n * 100L;
    }

    /** A server with free ports; not started. */
    public LargeTopology addServer(String id) {
        topology.dataPorts.put(id, TestTopology.freePort());
        topology.managementPorts.put(id, TestTopology.freePort());
        servers.put(id, "");
        return this;
    }

    public LargeTopology removeServer(String id) {
        servers.remove(id);
        ranges.values().removeIf(id::equals);
        return this;
    }

    /** Puts {@code range} (FIRST-LAST) first in the file, homed on {@code home}: it wins over any range it overlaps. */
    public LargeTopology home(String range, String home) {
        Map<String, String> reordered = new LinkedHashMap<>();
        reordered.put(range, home);
        ranges.forEach((r, h) -> {
            if (!r.equals(range)) {
                reordered.put(r, h);
            }
        });
        ranges.clear();
        ranges.putAll(reordered);
        return this;
    }

    public int size() {
        return servers.size();
    }

    public List<String> serverIds() {
        return new ArrayList<>(servers.keySet());
    }

    /** topology.yaml as it stands: written under another name, then renamed over the old one. */
    public LargeTopology write() {
        StringBuilder yaml = new StringBuilder("servers:\n");
        servers.forEach((id, switches) -> yaml.append("  - id: ").append(id).append('\n')
                .append("    url: ").append(topology.scheme).append("://127.0.0.1:").append(topology.dataPorts.get(id)).append('\n')
                .append("    management: http://127.0.0.1:").append(topology.managementPorts.get(id)).append('\n')
                .append(switches.isEmpty() ? "" : "    switches: [" + switches + "]\n"));
        yaml.append("extensions:\n");
        ranges.forEach((range, home) -> yaml.append("  - range: ").append(range).append("\n    home: ").append(home).append('\n')
                .append(range.equals("1999-1999") ? "    voicemail: false\n" : ""));
        return writeRaw(yaml.toString());
    }

    /** Any text as topology.yaml, e.g. a broken one. */
    public LargeTopology writeRaw(String yaml) {
        try {
            Path file = topology.configDir.resolve("topology.yaml");
            Path next = file.resolveSibling(".topology.yaml.new");
            Files.writeString(next, yaml);
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }
}
