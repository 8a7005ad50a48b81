package io.vmesh.topology;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A changed {@code topology.yaml} taken into force while the server runs (the watch-topology route):
 * read and checked as a whole, then the {@link Directory} every bean holds answers from it. A file
 * with an error, or one without this server, is refused with one log line and changes nothing.
 */
public final class TopologyChanges {

    private static final Logger LOG = LoggerFactory.getLogger(TopologyChanges.class);

    /** What changed, for the parts of the server that keep something per peer. */
    public record Change(Set<String> added, Set<String> removed, Set<String> readdressed, boolean rangesChanged) {
    }

    private final String site;
    private final Directory directory;
    private final Path file;
    private final List<Consumer<Change>> listeners = new ArrayList<>();
    private volatile String inForceSince = Instant.now().toString();

    public TopologyChanges(String site, Directory directory, Path file) {
        this.site = site;
        this.directory = directory;
        this.file = file;
    }

    /** Told of every change taken into force, after the directory answers from it. */
    public TopologyChanges onChange(Consumer<Change> listener) {
        listeners.add(listener);
        return this;
    }

    /**
     * The file's text as it is now: taken into force if it differs from the topology in force and is
     * valid; otherwise nothing changes. Returns whether it was taken into force.
     */
    public synchronized boolean apply(String yaml) {
        Directory newer;
        try {
            newer = Directory.fromYaml(yaml, file.toString());
            if (newer.server(site).isEmpty()) {
                throw new IllegalArgumentException(file + " has no server '" + site + "' (this server, --site)");
            }
        } catch (RuntimeException e) {
            LOG.error("Refused the changed topology: {}; the topology in force since {} stays", oneLine(e.getMessage()), inForceSince);
            return false;
        }
        if (directory.sameTopologyAs(newer)) {
            return false;
        }
        Change change = compare(directory, newer);
        Directory.Server before = directory.server(site).orElseThrow();
        directory.replaceWith(newer);
        inForceSince = Instant.now().toString();
        LOG.info("Topology changed ({}): {} server(s){}{}{}{}; now {} servers and {} extension ranges", file,
                change.added().size() + change.removed().size() + change.readdressed().size(),
                change.added().isEmpty() ? "" : ", added " + change.added(),
                change.removed().isEmpty() ? "" : ", removed " + change.removed(),
                change.readdressed().isEmpty() ? "" : ", changed " + change.readdressed(),
                change.rangesChanged() ? ", extension ranges changed" : "",
                newer.servers().size(), newer.extensionRanges().size());
        if (!before.equals(newer.server(site).orElseThrow())) {
            LOG.warn("This server's own entry ({}) changed in {}: its ports and addresses change at its next restart", site, file);
        }
        for (Consumer<Change> listener : listeners) {
            listener.accept(change);
        }
        return true;
    }

    private static Change compare(Directory older, Directory newer) {
        Set<String> added = new TreeSet<>();
        Set<String> removed = new TreeSet<>();
        Set<String> readdressed = new TreeSet<>();
        for (Directory.Server s : newer.servers()) {
            older.server(s.id()).ifPresentOrElse(o -> {
                if (!o.equals(s)) {
                    readdressed.add(s.id());
                }
            }, () -> added.add(s.id()));
        }
        for (Directory.Server s : older.servers()) {
            if (newer.server(s.id()).isEmpty()) {
                removed.add(s.id());
            }
        }
        return new Change(added, removed, readdressed, !older.extensionRanges().equals(newer.extensionRanges()));
    }

    /** A parser's message (snakeyaml's spans lines) as one log line. */
    private static String oneLine(String message) {
        return message == null ? "unreadable" : message.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
