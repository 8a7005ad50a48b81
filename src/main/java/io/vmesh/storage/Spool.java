package io.vmesh.storage;

import io.vmesh.audio.AudioCodec;
import io.vmesh.migration.Undeliverable;
import io.vmesh.security.Sha256;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.camel.Header;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FIG. 4's storage interface (335), its first half: the spool of messages recorded here, each kept
 * until its home mailbox has it. A message is {@code <id>.wav} plus {@code <id>.json}; the JSON is
 * written last, so a message exists once its JSON does. {@code queued-ids.txt} notes which are on a
 * migration queue ({@link QueuedMessages}).
 *
 * <pre>
 * data/&lt;site&gt;/spool/&lt;id&gt;.wav|.json   recorded here, not yet in its home mailbox
 * data/&lt;site&gt;/queued-ids.txt           the spooled messages on a migration queue
 * </pre>
 *
 * The spool hands its files over to the {@link Mailboxes} and the {@link Archive} by moving them to
 * where those name; it never opens their directories itself.
 */
public final class Spool {

    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

    private final String site;
    private final Path dir;
    private final QueuedMessages queued;
    private final Predicate<String> settled;
    // the spool's file names when it was built, before any route started: what start-up recovery may
    // finish or remove (a call taken meanwhile has files of the same kinds); emptied once recovery is done
    private volatile Set<String> atStartUp;

    /**
     * @param settled whether a message no longer in the spool was delivered or dead-lettered (the
     *                {@link Archive} knows): a queue entry for it is then a leftover
     */
    public Spool(String site, Path dataDir, Predicate<String> settled) {
        this.site = site;
        this.dir = dataDir.resolve("spool");
        this.queued = new QueuedMessages(dataDir.resolve("queued-ids.txt"));
        this.settled = settled;
        try {
            DurableFiles.createPrivateDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                this.atStartUp = files.map(f -> f.getFileName().toString()).collect(Collectors.toUnmodifiableSet());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create or read the spool " + dir, e);
        }
    }

    /** When the server stops: the file of queued ids is closed. */
    public void close() throws IOException {
        queued.close();
    }

    /** The metadata of a message just recorded (step 430), with the SHA-256 of its stored audio. */
    public VoicemailMessage newMessage(@Variable("messageId") String id, @Header("callId") String callId,
                                       @Header("from") String from, @Header("to") String extension,
                                       @Header("switchId") String switchId,
                                       @Variable("encoded") AudioCodec.EncodedAudio encoded) {
        return new VoicemailMessage(id, callId, from, extension, switchId, site, Instant.now().toString(),
                encoded.durationMs(), encoded.sourceEncoding(), Sha256.hex(encoded.wav()), false);
    }

    /**
     * Makes a message camel-file just wrote durable: its audio and metadata forced to disk, then the
     * directory, so that the renames that made them visible survive a power cut too.
     */
    public void sync(@Variable("messageId") String id) throws IOException {
        VoicemailMessage.requireValidId(id);
        DurableFiles.fsyncFile(audio(id));
        DurableFiles.fsyncFile(metadata(id));
        DurableFiles.fsyncDirectory(dir);
    }

    /** Whether the message is in the spool (recorded, not yet delivered or migrated). */
    public boolean holds(@Variable("messageId") String id) {
        VoicemailMessage.requireValidId(id);
        return Files.exists(metadata(id));
    }

    /** The spooled message's metadata. */
    public VoicemailMessage message(@Variable("messageId") String id) throws IOException {
        VoicemailMessage.requireValidId(id);
        return MessageFiles.read(metadata(id));
    }

    /** The spooled message's audio file. */
    private Path audio(String id) {
        VoicemailMessage.requireValidId(id);
        return dir.resolve(id + ".wav");
    }

    /** The spooled message's audio, read whole in one go (its size is known): the body of its migration. */
    public byte[] audioBytes(@Variable("messageId") String id) throws IOException {
        return Files.readAllBytes(audio(id));
    }

    /**
     * FIG. 4 step 445: the spooled message to migrate, or null if it was migrated or dead-lettered
     * already (a queue entry redelivered after a crash, or queued twice). A queue entry with neither is {@link Undeliverable}.
     */
    public VoicemailMessage toMigrate(@Variable("messageId") String id) throws IOException {
        try {
            return message(id);
        } catch (NoSuchFileException e) {
            if (settled.test(id)) {
                return null; // delivered, or dead-lettered, before: this queue entry is a leftover
            }
            throw new Undeliverable("the spool copy of " + id + " is gone and it was never sent");
        }
    }

    /** Every message in the spool (complete ones: their JSON is there), oldest first. */
    public List<VoicemailMessage> messages() throws IOException {
        return MessageFiles.readAll(dir, false);
    }

    /**
     * The ids of the messages in the spool of the data directory {@code dataDir}, read from disk
     * without opening it as a spool: for a tool looking at a server's data from outside.
     */
    public static List<String> idsOnDisk(Path dataDir) throws IOException {
        return MessageFiles.ids(dataDir.resolve("spool"));
    }

    /** Notes that the message is on its home's migration queue, so that recovery does not queue it again. */
    public void markQueued(@Variable("messageId") String id) throws IOException {
        VoicemailMessage.requireValidId(id);
        queued.add(id);
    }

    /**
     * The spooled messages a crash left unfinished: any the spool held when it was built that is not
     * on a migration queue (those homed here are never queued: they should be in their mailbox
     * already). A call taken since is its own request's to finish. The last step of start-up
     * recovery: the spool's names from before are let go.
     */
    public List<VoicemailMessage> unfinished() throws IOException {
        Set<String> before = atStartUp;
        Set<String> onQueue = queued.compact(id -> Files.exists(metadata(id)));
        List<VoicemailMessage> unfinished = messages().stream()
                .filter(m -> before.contains(m.id() + ".json") && !onQueue.contains(m.id())).toList();
        atStartUp = Set.of();
        return unfinished;
    }

    /**
     * Removes what a failed recording left in the spool, so that a call the switch was not given a
     * 201 for leaves nothing behind. Messages already in a mailbox are not touched.
     */
    public void discard(@Variable("messageId") String id) throws IOException {
        if (VoicemailMessage.isValidId(id)) {
            boolean removed = Files.deleteIfExists(metadata(id));
            removed |= Files.deleteIfExists(audio(id));
            removed |= Files.deleteIfExists(dir.resolve(DurableFiles.TEMP_PREFIX + id + ".wav"));
            removed |= Files.deleteIfExists(dir.resolve(DurableFiles.TEMP_PREFIX + id + ".json"));
            if (removed) {
                LOG.warn("Recording {} failed before it was acknowledged; removed it from the spool", id);
                DurableFiles.fsyncDirectory(dir);
            }
        }
    }

    /**
     * Start-up clean-up of what a crash mid-recording left: temporary files, and audio whose JSON was
     * never written (the switch never got its 201 for it, so it is not a message). Only files the
     * spool held when it was built: the data port may already be taking calls, and a call being
     * recorded has exactly such files until its JSON is written.
     */
    public int removeIncompleteRecordings() throws IOException {
        int removed = 0;
        for (String name : atStartUp) {
            boolean temp = name.startsWith(DurableFiles.TEMP_PREFIX);
            boolean orphanAudio = name.endsWith(".wav")
                    && !Files.exists(dir.resolve(name.substring(0, name.length() - ".wav".length()) + ".json"));
            if ((temp || orphanAudio) && Files.deleteIfExists(dir.resolve(name))) {
                LOG.warn("Removing {} from the spool: a recording interrupted before it was acknowledged", name);
                removed++;
            }
        }
        if (removed > 0) {
            DurableFiles.fsyncDirectory(dir);
        }
        return removed;
    }

    /**
     * Moves the message's files into {@code target} (a mailbox), audio first, metadata last (which
     * makes it visible there). Audio a crash moved already is not moved again. Neither directory is
     * forced: the caller forces its own.
     */
    public void handOver(String id, Path target) throws IOException {
        VoicemailMessage.requireValidId(id);
        Path audioThere = target.resolve(id + ".wav");
        if (!Files.exists(audioThere) || Files.exists(audio(id))) {
            DurableFiles.move(audio(id), audioThere);
        }
        DurableFiles.move(metadata(id), target.resolve(id + ".json"));
    }

    /**
     * The home has the message: its metadata moves to {@code tombstone} (the {@link Archive}'s),
     * its audio is deleted. Whether there was metadata to move.
     */
    public boolean handOverMetadata(String id, Path tombstone) throws IOException {
        VoicemailMessage.requireValidId(id);
        boolean moved = false;
        if (Files.exists(metadata(id))) {
            DurableFiles.move(metadata(id), tombstone);
            moved = true;
        }
        Files.deleteIfExists(audio(id));
        return moved;
    }

    /**
     * Takes the message out of the spool for good, undelivered: its metadata as a map (empty if it
     * had none), its audio moved to {@code audioTarget} (the {@link Archive}'s); the spool forced, and
     * the message noted as off its queue (put back into the spool by the operator, it is queued again).
     * The metadata file is deleted only after {@code keep} has stored the record.
     */
    public void giveUp(String id, Path audioTarget, RecordKeeper keep) throws IOException {
        VoicemailMessage.requireValidId(id);
        Map<String, Object> record = new LinkedHashMap<>();
        if (Files.exists(metadata(id))) {
            record.putAll(MessageFiles.JSON.readValue(Files.readAllBytes(metadata(id)), Map.class));
        }
        if (Files.exists(audio(id))) {
            DurableFiles.move(audio(id), audioTarget);
        }
        keep.keep(record);
        Files.deleteIfExists(metadata(id));
        DurableFiles.fsyncDirectory(dir);
        queued.remove(id);
    }

    /** Stores the record of a message given up, before its spool metadata is deleted. */
    @FunctionalInterface
    public interface RecordKeeper {
        void keep(Map<String, Object> spooledMetadata) throws IOException;
    }

    private Path metadata(String id) {
        return dir.resolve(id + ".json");
    }
}
