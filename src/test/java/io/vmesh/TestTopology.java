package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A config directory for tests: the shipped {@code camel-config/application.properties} and
 * {@code secrets.properties}, and the shipped topology's shape (hq, east, west and their extension
 * ranges) on free loopback ports, plus extension 1999, a lobby phone that takes no voicemail.
 */
public final class TestTopology {

    public final Path configDir;
    final Map<String, Integer> dataPorts = new LinkedHashMap<>();
    final Map<String, Integer> managementPorts = new LinkedHashMap<>();
    final Map<String, Integer> sipPorts = new LinkedHashMap<>();

    public final String scheme;

    public TestTopology(Path configDir) {
        this(configDir, "http");
    }

    /** The same, with every data port on {@code scheme} (https for the TLS test). */
    public TestTopology(Path configDir, String scheme) {
        this.configDir = configDir;
        this.scheme = scheme;
        try {
            Files.createDirectories(configDir);
            Files.copy(Path.of("camel-config/application.properties"), configDir.resolve("application.properties"));
            Files.copy(Path.of("camel-config/secrets.properties"), configDir.resolve("secrets.properties"));
            Files.copy(Path.of("camel-config/greeting.wav"), configDir.resolve("greeting.wav"));
            StringBuilder yaml = new StringBuilder("servers:\n");
            String[][] servers = {{"hq", "hq-sw1, hq-sw2, branch-sw1, branch-sw2"}, {"east", "east-sw1"}, {"west", "west-sw1"}};
            for (String[] s : servers) {
                dataPorts.put(s[0], freePort());
                managementPorts.put(s[0], freePort());
                sipPorts.put(s[0], freePort());
                yaml.append("  - id: ").append(s[0]).append('\n')
                        .append("    url: ").append(scheme).append("://127.0.0.1:").append(dataPorts.get(s[0])).append('\n')
                        .append("    management: http://127.0.0.1:").append(managementPorts.get(s[0])).append('\n')
                        .append("    sip: 127.0.0.1:").append(sipPorts.get(s[0])).append('\n')
                        .append("    switches: [").append(s[1]).append("]\n");
            }
            yaml.append("extensions:\n")
                    .append("  - range: 1999-1999\n    home: hq\n    voicemail: false\n") // a lobby phone
                    .append("  - range: 1000-1999\n    home: hq\n")
                    .append("  - range: 2000-2999\n    home: east\n")
                    .append("  - range: 3000-3999\n    home: west\n");
            Files.writeString(configDir.resolve("topology.yaml"), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds a per-site override file, as an operator would ({@code <site>.properties}). */
    public TestTopology siteProperties(String site, String properties) {
        try {
            Files.writeString(configDir.resolve(site + ".properties"), properties);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Replaces the shipped greeting with 0.3 s of speech-like sound, so that a SIP call is soon past it. */
    public TestTopology shortGreeting() {
        try {
            Files.write(configDir.resolve("greeting.wav"),
                    Audio.wav(Audio.format(javax.sound.sampled.AudioFormat.Encoding.PCM_SIGNED, 8000, 16, 1), 0.3));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public String dataUrl(String site) {
        return scheme + "://127.0.0.1:" + dataPorts.get(site);
    }

    /** The server's SIP address, {@code 127.0.0.1:port} (UDP and TCP). */
    public String sipAddress(String site) {
        return "127.0.0.1:" + sipPorts.get(site);
    }

    public String managementUrl(String site) {
        return "http://127.0.0.1:" + managementPorts.get(site);
    }

    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A free loopback port below the kernel's ephemeral range (32768+ on Linux), so that no outgoing
     * connection of another test can take it between this check and the server binding it; never
     * the same port twice in one test JVM. The suite runs in two JVMs at once (the pom's forkCount):
     * each takes its ports from its own half of 15000-31000 ({@code vmesh.test.fork}), so that the
     * two never hand out the same port, and none from the shipped RTP range (20000-20999), where
     * the servers' calls bind their media.
     */
    /** Which of the pom's test JVMs this is: 1 or 2 ({@code vmesh.test.fork} = {@code fork-<n>}), 1 outside Maven. */
    static int forkNumber() {
        String digits = System.getProperty("vmesh.test.fork", "").replaceAll("\\D", "");
        return digits.isEmpty() ? 1 : Integer.parseInt(digits);
    }

    public static int freePort() {
        int fork = Math.max(1, Math.min(2, forkNumber()));
        int from = 15000 + (fork - 1) * 8000;
        int to = from + 8000;
        var random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = random.nextInt(from, to);
            if ((port >= 20000 && port <= 20999) || !HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException inUse) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free loopback port between " + from + " and " + to);
    }
}
