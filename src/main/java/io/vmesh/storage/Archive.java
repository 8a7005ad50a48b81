package io.vmesh.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.Variable;

/**
 * Where spooled messages end that are not in a mailbox here: migrated ones (their metadata kept for
 * the retention period, so that a queue entry redelivered after a crash is recognised as delivered)
 * and dead letters (what can never be delivered, the JSON saying why).
 *
 * <pre>
 * data/&lt;site&gt;/sent/&lt;id&gt;.json              migrated to its home: kept for the retention period
 * data/&lt;site&gt;/dead-letter/&lt;id&gt;.wav|.json  could not be delivered; the JSON says why
 * </pre>
 */
public final class Archive {

    private final String site;
    private final Path sent;
    private final Path deadLetter;
    private final Spool spool;

    public Archive(String site, Path dataDir, Spool spool) {
        this.site = site;
        this.sent = dataDir.resolve("sent");
        this.deadLetter = dataDir.resolve("dead-letter");
        this.spool = spool;
        try {
            DurableFiles.createPrivateDirectories(sent);
            DurableFiles.createPrivateDirectories(deadLetter);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + sent + " and " + deadLetter, e);
        }
    }

    /** Whether the message was migrated (within the retention) or dead-lettered. */
    public boolean holds(String id) {
        return VoicemailMessage.isValidId(id)
                && (Files.exists(sent.resolve(id + ".json")) || Files.exists(deadLetter.resolve(id + ".json")));
    }

    /**
     * The home has the message: the spool copy goes, its metadata is kept in sent/ for the retention
     * period. Nothing is forced to disk here: the home holds the message durably already, and should a
     * power cut undo this clean-up, start-up queues the spool copy again and the home, idempotent on
     * the message id, answers 201 without storing it twice.
     */
    public void sent(@Variable("messageId") String id) throws IOException {
        Path tombstone = sent.resolve(id + ".json");
        if (spool.handOverMetadata(id, tombstone)) {
            Files.setLastModifiedTime(tombstone, FileTime.from(Instant.now())); // retention counts from now
        }
    }

    /** Deletes sent/ records older than the retention; returns how many went. */
    public int purgeSent(long retentionHours) throws IOException {
        Instant limit = Instant.now().minus(Duration.ofHours(retentionHours));
        int purged = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(sent, "*.json")) {
            for (Path f : files) {
                if (Files.getLastModifiedTime(f).toInstant().isBefore(limit)) {
                    Files.deleteIfExists(f);
                    purged++;
                }
            }
        }
        return purged;
    }

    /** What can never be delivered moves from the spool to dead-letter/, its JSON carrying the reason. */
    public Map<String, Object> deadLetter(@Variable("messageId") String id, @Variable("reason") String reason)
            throws IOException {
        VoicemailMessage.requireValidId(id);
        Map<String, Object> record = new LinkedHashMap<>();
        spool.giveUp(id, deadLetter.resolve(id + ".wav"), spooled -> {
            record.putAll(spooled);
            record.put("id", id);
            record.put("reason", reason);
            record.put("deadLetteredAt", Instant.now().toString());
            record.put("deadLetteredBy", site);
            DurableFiles.writeDurably(deadLetter.resolve(id + ".json"), MessageFiles.bytes(record));
        });
        return record;
    }
}
