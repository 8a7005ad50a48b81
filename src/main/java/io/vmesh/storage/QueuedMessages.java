package io.vmesh.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which spooled messages are on a migration queue, so that start-up recovery queues again only those
 * a crash left unqueued: their ids, one line each, appended to {@code data/queued-ids.txt} as they
 * are queued ({@code -<id>} takes one off again: dead-lettered).
 *
 * <p>A line instead of a marker file per message: creating and deleting a file for every message was
 * 4.5% of the sender's CPU (ext4 allocating inodes; docs/performance.md). The file is not forced to
 * disk: an id lost to a power cut makes recovery queue that message a second time, and it is still
 * delivered once (the home stores a message id once). At start-up the file is rewritten with only the
 * ids whose message is still spooled.
 */
public final class QueuedMessages {

    /** A line starting with this takes the id after it off the list. */
    private static final String REMOVED = "-";

    private final Path file;
    private FileChannel appender;

    public QueuedMessages(Path file) {
        this.file = file;
    }

    /** Notes that a message is on its home's queue. */
    void add(String id) throws IOException {
        append(id);
    }

    /**
     * Notes that a message left its queue for good without being delivered (dead-lettered): should
     * the operator put it back into the spool, start-up queues it again.
     */
    void remove(String id) throws IOException {
        append(REMOVED + id);
    }

    private synchronized void append(String line) throws IOException {
        if (appender == null) {
            appender = DurableFiles.openPrivateForAppend(file);
        }
        ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
            appender.write(bytes);
        }
    }

    /** Closes the file; a later {@link #add} opens it again. */
    synchronized void close() throws IOException {
        if (appender != null) {
            appender.close();
            appender = null;
        }
    }

    /**
     * The ids noted so far, after dropping from the file those whose message is no longer waiting
     * ({@code stillSpooled} false): delivered, dead-lettered or never complete.
     */
    synchronized Set<String> compact(Predicate<String> stillSpooled) {
        Set<String> kept = new LinkedHashSet<>();
        try {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                    if (line.startsWith(REMOVED)) {
                        kept.remove(line.substring(REMOVED.length()));
                    } else if (!line.isBlank()) {
                        kept.add(line);
                    }
                }
                kept.removeIf(stillSpooled.negate());
            }
            close();
            StringBuilder lines = new StringBuilder();
            kept.forEach(id -> lines.append(id).append('\n'));
            DurableFiles.writeForced(file, lines.toString().getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or rewrite " + file, e);
        }
        return kept;
    }
}
