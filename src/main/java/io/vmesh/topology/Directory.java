package io.vmesh.topology;

import io.vmesh.RejectedRequest;
import io.vmesh.security.Printable;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The company's directory from {@code topology.yaml}: which servers exist, which switches each
 * one manages, and which server is home to each extension (FIG. 4 steps 420/425 and 450).
 * <p>
 * The directory a server runs with can be replaced while it runs ({@link #replaceWith}, from
 * {@link TopologyChanges}): every bean holds this one object, and each question is answered from
 * the topology in force at that moment, never from a mix of two.
 */
public final class Directory {

    /** A server; {@code sip} is where it answers PBXs over SIP (UDP and TCP), absent when it does not. */
    public record Server(String id, URI url, URI management, List<String> switches, Optional<InetSocketAddress> sip) {
    }

    /** A range of extensions, its home server, and whether its unanswered calls go to voicemail. */
    public record ExtensionRange(long first, long last, String home, boolean voicemail) {
        public boolean contains(long extension) {
            return extension >= first && extension <= last;
        }
    }

    private static final Pattern EXTENSION = Pattern.compile("[0-9]{1,15}");
    private static final Pattern SERVER_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    /** One topology, as read from one file: replaced as a whole. */
    private record Entries(Map<String, Server> servers, List<ExtensionRange> extensions) {
    }

    private volatile Entries entries;

    private Directory(Map<String, Server> servers, List<ExtensionRange> extensions) {
        this.entries = new Entries(servers, extensions);
    }

    /** Used by {@code camel.beans.directory}: the topology file named by {@code vmesh.topology}. */
    public Directory(String topologyFile) {
        this(load(Path.of(topologyFile)));
    }

    private Directory(Directory loaded) {
        this.entries = loaded.entries;
    }

    public static Directory load(Path topologyFile) {
        try (InputStream in = Files.newInputStream(topologyFile)) {
            Object root = new Load(LoadSettings.builder().setLabel(topologyFile.toString()).build())
                    .loadFromInputStream(in);
            return parse(root, topologyFile.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read topology " + topologyFile + ": " + e.getMessage(), e);
        }
    }

    /** A topology from a file's text; {@code source} names it in errors. Any error is an IllegalArgumentException. */
    public static Directory fromYaml(String yaml, String source) {
        Object root;
        try {
            root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(yaml);
        } catch (RuntimeException notYaml) {
            throw new IllegalArgumentException(source + " is not valid YAML: " + notYaml.getMessage(), notYaml);
        }
        return parse(root, source);
    }

    /** From now on, every question is answered from {@code newer}'s topology. */
    public void replaceWith(Directory newer) {
        this.entries = newer.entries;
    }

    /** The same servers (with the same keys) and the same extension ranges in the same order. */
    public boolean sameTopologyAs(Directory other) {
        Entries mine = entries;
        Entries theirs = other.entries;
        return mine.servers().equals(theirs.servers())
                && List.copyOf(mine.servers().keySet()).equals(List.copyOf(theirs.servers().keySet()))
                && mine.extensions().equals(theirs.extensions());
    }

    private static Directory parse(Object root, String source) {
        Map<?, ?> doc = asMap(root, source);
        Map<String, Server> servers = new LinkedHashMap<>();
        for (Object entry : asList(doc.get("servers"), source + ": servers")) {
            Map<?, ?> s = asMap(entry, source + ": a server");
            String id = text(s, "id", source);
            if (!SERVER_ID.matcher(id).matches()) {
                throw new IllegalArgumentException(source + ": server id '" + id + "' must be lower-case letters, digits and dashes");
            }
            List<String> switches = new ArrayList<>();
            if (s.get("switches") != null) {
                asList(s.get("switches"), source + ": switches of " + id).forEach(sw -> switches.add(String.valueOf(sw)));
            }
            Server server = new Server(id, URI.create(text(s, "url", source)), URI.create(text(s, "management", source)),
                    List.copyOf(switches), sipAddress(s.get("sip"), id, source));
            if (servers.put(id, server) != null) {
                throw new IllegalArgumentException(source + ": server '" + id + "' is listed twice");
            }
        }
        if (servers.isEmpty()) {
            throw new IllegalArgumentException(source + ": no servers");
        }
        List<ExtensionRange> extensions = new ArrayList<>();
        for (Object entry : asList(doc.get("extensions"), source + ": extensions")) {
            Map<?, ?> e = asMap(entry, source + ": an extension range");
            String range = text(e, "range", source);
            String home = text(e, "home", source);
            String[] bounds = range.split("-", 2);
            String first = bounds[0].trim();
            String last = bounds.length == 2 ? bounds[1].trim() : first;
            if (!EXTENSION.matcher(first).matches() || !EXTENSION.matcher(last).matches()
                    || Long.parseLong(first) > Long.parseLong(last)) {
                throw new IllegalArgumentException(source + ": range '" + range + "' is not FIRST-LAST in digits");
            }
            if (!servers.containsKey(home)) {
                throw new IllegalArgumentException(source + ": range " + range + " has unknown home '" + home + "'");
            }
            Object voicemail = e.get("voicemail");
            if (voicemail != null && !(voicemail instanceof Boolean)) {
                throw new IllegalArgumentException(source + ": range " + range + " has voicemail: " + voicemail + "; true or false");
            }
            extensions.add(new ExtensionRange(Long.parseLong(first), Long.parseLong(last), home, voicemail == null || (Boolean) voicemail));
        }
        return new Directory(servers, List.copyOf(extensions));
    }

    public List<Server> servers() {
        return List.copyOf(entries.servers().values());
    }

    /** The extension ranges in the order of the file (the first that matches wins). */
    public List<ExtensionRange> extensionRanges() {
        return entries.extensions();
    }

    public Optional<Server> server(String id) {
        return Optional.ofNullable(entries.servers().get(id));
    }

    /** The server id that is home to this extension; 404 for an extension the directory does not hold. */
    public String homeOf(String extension) {
        requireExtensionSyntax(extension);
        long number = Long.parseLong(extension);
        return entries.extensions().stream()
                .filter(range -> range.contains(number))
                .findFirst() // first match wins
                .map(ExtensionRange::home)
                .orElseThrow(() -> RejectedRequest.notFound("extension " + extension + " is not in the directory"));
    }

    /**
     * Whether the topology now homes the extension of the message being migrated elsewhere than on
     * {@code home}, the server its queue entry is for (steps home-changed and still-its-home of the
     * migration routes): a plain bean call, where a {@code ${bean:...}} in a predicate cost every
     * message a parse of its method expression.
     */
    public boolean homedElsewhere(@org.apache.camel.language.simple.Simple("${variable.message.extension}") String extension,
                                  @org.apache.camel.Variable("home") String home) {
        return !homeOf(extension).equals(home);
    }

    /** The extension's setting for step 410: false for a range marked {@code voicemail: false} (a lobby phone, say). */
    public boolean takesVoicemail(String extension) {
        requireExtensionSyntax(extension);
        long number = Long.parseLong(extension);
        return entries.extensions().stream().filter(range -> range.contains(number)).findFirst()
                .map(ExtensionRange::voicemail)
                .orElseThrow(() -> RejectedRequest.notFound("extension " + extension + " is not in the directory"));
    }

    /** The data-port URL of a server (FIG. 4 step 450). */
    public String urlOf(String serverId) {
        return server(serverId).map(s -> withoutTrailingSlashes(s.url().toString()))
                .orElseThrow(() -> new IllegalArgumentException("no server '" + serverId + "' in the topology"));
    }

    /** A URL as the peers and tools join paths to it: without trailing slashes. */
    public static String withoutTrailingSlashes(String url) {
        int end = url.length();
        while (end > 0 && url.charAt(end - 1) == '/') {
            end--;
        }
        return url.substring(0, end);
    }

    public boolean isKnownSwitch(String switchId) {
        return entries.servers().values().stream().anyMatch(s -> s.switches().contains(switchId));
    }

    public static void requireExtensionSyntax(String extension) {
        if (extension == null || !EXTENSION.matcher(extension).matches()) {
            throw RejectedRequest.badRequest("extension must be 1 to 15 digits, got '" + Printable.of(extension) + "'");
        }
    }

    /** {@code sip: HOST:PORT} of a server entry, or nothing when the key is absent. */
    private static Optional<InetSocketAddress> sipAddress(Object value, String id, String source) {
        if (value == null) {
            return Optional.empty();
        }
        String text = String.valueOf(value).trim();
        int colon = text.lastIndexOf(':');
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (colon < 1 || port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return Optional.of(InetSocketAddress.createUnresolved(text.substring(0, colon), port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": server " + id + " has sip: " + text + "; HOST:PORT, e.g. 127.0.0.1:5071");
        }
    }

    private static Map<?, ?> asMap(Object o, String what) {
        if (o instanceof Map<?, ?> m) {
            return m;
        }
        throw new IllegalArgumentException(what + " must be a mapping");
    }

    private static List<?> asList(Object o, String what) {
        if (o instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException(what + " must be a list");
    }

    private static String text(Map<?, ?> m, String key, String source) {
        Object v = m.get(key);
        if (v == null || String.valueOf(v).isBlank()) {
            throw new IllegalArgumentException(source + ": '" + key + "' is missing in " + m);
        }
        return String.valueOf(v).trim();
    }
}
