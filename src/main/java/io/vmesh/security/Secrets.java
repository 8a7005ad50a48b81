package io.vmesh.security;

import io.vmesh.topology.Directory;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials of a site, from their own file ({@code <config>/secrets.properties}), read here
 * and nowhere else: never Camel properties, so never in the start-up log, Jolokia or metrics.
 *
 * <pre>
 * cluster-secret = ...          HMAC key every server signs and checks peer requests with
 * switch.&lt;switchId&gt; = ...      bearer token of each switch
 * mailbox.default-pin = ...     PIN of a mailbox whose owner has not set one
 * mailbox.pin-key = ...         key of the PIN hashes in the data directory (HMAC before PBKDF2)
 * management.user = ...         login of the management port (ManagementLogin)
 * management.password = ...
 * </pre>
 */
public final class Secrets {

    private static final Logger LOG = LoggerFactory.getLogger(Secrets.class);
    public static final String DEMO_PREFIX = "demo-";

    private final byte[] clusterSecret;
    private final Map<String, String> switchTokens = new TreeMap<>();
    private final String defaultPin;
    private final byte[] pinKey;
    private final Path file;
    private final boolean demo;

    public Secrets(Path file, Directory directory) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the secrets file " + file + " (see docs/security.md): " + e.getMessage(), e);
        }
        String cluster = p.getProperty("cluster-secret", "").trim();
        if (cluster.length() < 16) {
            throw new IllegalArgumentException(file + ": cluster-secret must be at least 16 characters");
        }
        this.clusterSecret = cluster.getBytes(StandardCharsets.UTF_8);
        this.defaultPin = p.getProperty("mailbox.default-pin", "").trim();
        if (!defaultPin.matches("[0-9]{4,12}")) {
            throw new IllegalArgumentException(file + ": mailbox.default-pin must be 4 to 12 digits");
        }
        String pin = p.getProperty("mailbox.pin-key", "").trim();
        if (pin.length() < 16) {
            throw new IllegalArgumentException(file + ": mailbox.pin-key must be at least 16 characters (docs/security.md)");
        }
        this.pinKey = pin.getBytes(StandardCharsets.UTF_8);
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith("switch.")) {
                switchTokens.put(name.substring("switch.".length()), p.getProperty(name).trim());
            }
        }
        for (Directory.Server server : directory.servers()) {
            for (String sw : server.switches()) {
                if (!switchTokens.containsKey(sw)) {
                    LOG.warn("Switch {} has no token in {}: its calls will be refused", sw, file);
                }
            }
        }
        this.file = file;
        this.demo = cluster.startsWith(DEMO_PREFIX) || pin.startsWith(DEMO_PREFIX)
                || p.getProperty("management.password", "").trim().startsWith(DEMO_PREFIX) || switchTokens.values().stream().anyMatch(t -> t.startsWith(DEMO_PREFIX));
        if (demo) {
            LOG.warn("""

                    ************************************************************************************
                    *  vmesh is running with the DEMO secrets of {}.
                    *  Anyone who has read the documentation can post calls, migrate messages and read
                    *  mailboxes. Generate real secrets before production: see docs/security.md.
                    ************************************************************************************""", file);
        }
    }

    /** True while any secret is a shipped demo one (starts with {@value #DEMO_PREFIX}). */
    public boolean isDemo() {
        return demo;
    }

    /**
     * Refuses demo secrets on a data port that other hosts can reach: the demo values are public.
     * Loopback (the demo, the tests) is fine, and so is an operator's explicit
     * {@code vmesh.allow-demo-secrets = true} (or {@code --demo}).
     */
    public void requireRealSecretsUnlessLoopback(String dataHost, boolean allowDemo) {
        if (!demo || allowDemo || isLoopback(dataHost)) {
            return;
        }
        throw new IllegalStateException("Refusing to serve " + dataHost + " with the public demo secrets of " + file
                + ": make real ones (docs/security.md, 'Secrets'), or start with --demo to allow them");
    }

    private static boolean isLoopback(String host) {
        try {
            return host != null && !host.isBlank() && java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    byte[] pinKey() {
        return pinKey;
    }

    byte[] clusterSecret() {
        return clusterSecret;
    }

    public Optional<String> switchToken(String switchId) {
        return Optional.ofNullable(switchTokens.get(switchId));
    }

    public String defaultPin() {
        return defaultPin;
    }

    /** Compares in constant time, so a wrong credential's timing says nothing about the right one. */
    public static boolean same(String expected, String given) {
        return expected != null && given != null && MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }
}
