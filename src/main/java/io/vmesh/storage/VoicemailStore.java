package io.vmesh.storage;

import io.vmesh.RejectedRequest;
import io.vmesh.audio.AudioCodec;
import io.vmesh.migration.Undeliverable;
import io.vmesh.security.Printable;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FIG. 4's storage interface (335): the spool of messages recorded here and the mailboxes of the
 * extensions homed here. A message is {@code <id>.wav} plus {@code <id>.json}; the JSON is written
 * last, so a message exists once its JSON does. Every change to a message is fsync'd, files and
 * directories; {@code queued-ids.txt} is not (see {@link QueuedMessages}).
 *
 * <pre>
 * data/&lt;site&gt;/spool/&lt;id&gt;.wav|.json            recorded here, not yet in its home mailbox
 * data/&lt;site&gt;/queued-ids.txt                    the spooled messages on a migration queue ({@link QueuedMessages})
 * data/&lt;site&gt;/mailboxes/&lt;ext&gt;/&lt;id&gt;.wav|.json    delivered to an extension homed here
 * data/&lt;site&gt;/sent/&lt;id&gt;.json                    migrated to its home: kept for the retention period
 * data/&lt;site&gt;/dead-letter/&lt;id&gt;.wav|.json       could not be delivered; the JSON says why
 * </pre>
 */
public final class VoicemailStore {

    private static final Logger LOG = LoggerFactory.getLogger(VoicemailStore.class);
    private static final Pattern MESSAGE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,99}");
    public static final String TEMP_PREFIX = ".part-";

    private final String site;
    private final Path spool;
    private final Path mailboxes;
    private final Path sent;
    private final Path deadLetter;
    private final QueuedMessages queued;
    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    /**
     * The ids of each mailbox's unheard messages: the message-waiting count, without listing the
     * mailbox for every new message (10,000 messages into 50 mailboxes made that a walk of 200 files
     * per message). A mailbox's set is read from its files the first time it is asked for, then kept
     * current by every change made through this store; its size is the count.
     */
    private final Map<String, Set<String>> unheardByMailbox = new ConcurrentHashMap<>();

    public VoicemailStore(String site, String dataDir) {
        this.site = site;
        Path data = Path.of(dataDir).toAbsolutePath().normalize();
        this.spool = data.resolve("spool");
        this.mailboxes = data.resolve("mailboxes");
        this.sent = data.resolve("sent");
        this.deadLetter = data.resolve("dead-letter");
        this.queued = new QueuedMessages(data.resolve("queued-ids.txt"));
        try {
            Files.createDirectories(spool);
            Files.createDirectories(mailboxes);
            Files.createDirectories(sent);
            Files.createDirectories(deadLetter);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + data, e);
        }
    }

    /** When the server stops: the file of queued ids is closed. */
    public void close() throws IOException {
        queued.close();
    }

    public Path spool() {
        return spool;
    }

    /** The metadata of a message just recorded (step 430), with the SHA-256 of its stored audio. */
    public VoicemailMessage newMessage(@Variable("messageId") String id, @Header("callId") String callId,
                                       @Header("from") String from, @Header("to") String extension,
                                       @Header("switchId") String switchId,
                                       @Variable("encoded") AudioCodec.EncodedAudio encoded) {
        return new VoicemailMessage(id, callId, from, extension, switchId, site, Instant.now().toString(),
                encoded.durationMs(), encoded.sourceEncoding(), sha256(encoded.wav()), false);
    }

    /**
     * Makes a message camel-file just wrote durable: its audio and metadata forced to disk, then the
     * directory, so that the renames that made them visible survive a power cut too.
     */
    public void syncSpool(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        fsyncFile(spool.resolve(id + ".wav"));
        fsyncFile(spool.resolve(id + ".json"));
        fsyncDirectory(spool);
    }

    /** Moves a spooled message into its home mailbox on this server; a message already there is not duplicated. */
    public VoicemailMessage deliverLocally(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        VoicemailMessage message = read(spool.resolve(id + ".json"));
        boolean newBox = !Files.isDirectory(mailbox(message.extension()));
        Path box = Files.createDirectories(mailbox(message.extension()));
        if (newBox) {
            fsyncDirectory(mailboxes);
        }
        Path audio = box.resolve(id + ".wav");
        if (!Files.exists(audio) || Files.exists(spool.resolve(id + ".wav"))) { // a crash may have moved it already
            moveDurably(spool.resolve(id + ".wav"), audio);
        }
        moveDurably(spool.resolve(id + ".json"), box.resolve(id + ".json")); // visible from here on
        unheard(message.extension()).add(id);
        // the mailbox's entries are what the 201 promises. The spool's directory is not forced again:
        // should a power cut bring its entries back, start-up delivers them again, idempotently.
        fsyncDirectory(box);
        return message;
    }

    /**
     * Whether this server stored the message already: in the spool, in the extension's mailbox, as
     * sent to its home, or dead-lettered. A recording made again after a crash asks before it is stored.
     */
    public boolean holds(@Variable("messageId") String id, @Header("to") String extension) {
        requireMessageId(id);
        return Files.exists(spool.resolve(id + ".json")) || Files.exists(mailbox(extension).resolve(id + ".json"))
                || Files.exists(sent.resolve(id + ".json")) || Files.exists(deadLetter.resolve(id + ".json"));
    }

    /** The spooled message's metadata, for a route that needs more than its id. */
    public VoicemailMessage spooled(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        return read(spool.resolve(id + ".json"));
    }

    /**
     * Removes what a failed recording left in the spool, so that a call the switch was not given a
     * 201 for leaves nothing behind. Messages already in a mailbox are not touched.
     */
    public void discardFromSpool(@Variable("messageId") String id) throws IOException {
        if (id != null && MESSAGE_ID.matcher(id).matches()) {
            boolean removed = Files.deleteIfExists(spool.resolve(id + ".json"));
            removed |= Files.deleteIfExists(spool.resolve(id + ".wav"));
            removed |= Files.deleteIfExists(spool.resolve(TEMP_PREFIX + id + ".wav"));
            removed |= Files.deleteIfExists(spool.resolve(TEMP_PREFIX + id + ".json"));
            if (removed) {
                LOG.warn("Recording {} failed before it was acknowledged; removed it from the spool", id);
                fsyncDirectory(spool);
            }
        }
    }

    /**
     * The spooled messages a crash left unfinished: any not yet on a migration queue (those homed
     * here are never queued: they should be in their mailbox already).
     */
    public List<VoicemailMessage> unfinished() throws IOException {
        Set<String> onQueue = queued.compact(id -> Files.exists(spool.resolve(id + ".json")));
        // a .queued marker file is how earlier versions noted it
        return spooledMessages().stream()
                .filter(m -> !onQueue.contains(m.id()) && !Files.exists(spool.resolve(m.id() + ".queued"))).toList();
    }

    /** Notes that the message is on its home's migration queue, so that recovery does not queue it again. */
    public void markQueued(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        queued.add(id);
    }

    /**
     * FIG. 4 step 445: the spooled message to migrate, or null if it was migrated or dead-lettered
     * already (a queue entry redelivered after a crash, or queued twice). A queue entry with neither is {@link Undeliverable}.
     */
    public VoicemailMessage toMigrate(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        try {
            return read(spool.resolve(id + ".json"));
        } catch (NoSuchFileException e) {
            if (Files.exists(sent.resolve(id + ".json")) || Files.exists(deadLetter.resolve(id + ".json"))) {
                return null; // delivered, or dead-lettered, before: this queue entry is a leftover
            }
            throw new Undeliverable("the spool copy of " + id + " is gone and it was never sent");
        }
    }

    public Path spooledAudio(@Variable("messageId") String id) {
        requireMessageId(id);
        return spool.resolve(id + ".wav");
    }

    /**
     * The home has the message: the spool copy goes, its metadata is kept in sent/ for the retention
     * period. Nothing is forced to disk here: the home holds the message durably already, and should a
     * power cut undo this clean-up, start-up queues the spool copy again and the home, idempotent on
     * the message id, answers 201 without storing it twice.
     */
    public void archiveSent(@Variable("messageId") String id) throws IOException {
        requireMessageId(id);
        Path json = spool.resolve(id + ".json");
        if (Files.exists(json)) {
            Path tombstone = sent.resolve(id + ".json");
            moveDurably(json, tombstone);
            Files.setLastModifiedTime(tombstone, java.nio.file.attribute.FileTime.from(Instant.now())); // retention counts from now
        }
        Files.deleteIfExists(spool.resolve(id + ".wav"));
    }

    /** Deletes sent/ records older than the retention; returns how many went. */
    public int purgeSent(long retentionHours) throws IOException {
        Instant limit = Instant.now().minus(java.time.Duration.ofHours(retentionHours));
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
    public Map<String, Object> moveToDeadLetter(@Variable("messageId") String id, @Variable("reason") String reason)
            throws IOException {
        requireMessageId(id);
        Map<String, Object> record = new LinkedHashMap<>();
        Path metadata = spool.resolve(id + ".json");
        if (Files.exists(metadata)) {
            record.putAll(json.readValue(Files.readAllBytes(metadata), Map.class));
        }
        record.put("id", id);
        record.put("reason", reason);
        record.put("deadLetteredAt", Instant.now().toString());
        record.put("deadLetteredBy", site);
        if (Files.exists(spool.resolve(id + ".wav"))) {
            moveDurably(spool.resolve(id + ".wav"), deadLetter.resolve(id + ".wav"));
        }
        writeDurably(deadLetter.resolve(id + ".json"), json.writeValueAsBytes(record));
        Files.deleteIfExists(metadata);
        Files.deleteIfExists(spool.resolve(id + ".queued")); // an earlier version's marker, or a re-drive would skip it
        fsyncDirectory(spool);
        queued.remove(id); // off its queue: put back into the spool, it is queued again
        return record;
    }

    /** An extension's mailbox directory, created the first time; then its parent is forced to disk too. */
    private void openMailbox(String extension) throws IOException {
        Path box = mailbox(extension);
        if (!Files.isDirectory(box)) {
            Files.createDirectories(box);
            fsyncDirectory(mailboxes);
        }
    }

    /**
     * Stores a message a peer migrated here in its mailbox: the audio, then the metadata (which makes
     * it visible), each under a temporary name, forced to disk and renamed, then the mailbox directory
     * forced, so that the 201 that follows is a promise a power cut cannot break. A message already in
     * the mailbox (a retry whose first attempt was stored) is left as it is. Returns whether it was stored now.
     */
    public boolean storeInMailbox(@Variable("received") VoicemailMessage message, @Body byte[] audio) throws IOException {
        requireMessageId(message.id());
        Path box = mailbox(message.extension());
        Path metadata = box.resolve(message.id() + ".json");
        if (Files.exists(metadata)) {
            return false;
        }
        openMailbox(message.extension());
        writeForced(box.resolve(message.id() + ".wav"), audio);
        writeForced(metadata, json.writeValueAsBytes(message));
        fsyncDirectory(box);
        unheard(message.extension()).add(message.id());
        return true;
    }

    /** Every message in the spool (complete ones: their JSON is there), oldest first. */
    public List<VoicemailMessage> spooledMessages() throws IOException {
        return readAll(spool, false);
    }

    /**
     * Start-up clean-up of what a crash mid-recording left: temporary files, and audio whose JSON was
     * never written (the switch never got its 201 for it, so it is not a message).
     */
    public int removeIncompleteRecordings() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(spool)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                boolean temp = name.startsWith(TEMP_PREFIX);
                String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
                boolean orphanAudio = (name.endsWith(".wav") || name.endsWith(".queued"))
                        && !Files.exists(spool.resolve(base + ".json"));
                if (name.endsWith(".queued") && orphanAudio) {
                    Files.deleteIfExists(f); // the marker of a message delivered before it was written
                } else if (temp || orphanAudio) {
                    LOG.warn("Removing {} from the spool: a recording interrupted before it was acknowledged", name);
                    Files.deleteIfExists(f);
                    removed++;
                }
            }
        }
        if (removed > 0) {
            fsyncDirectory(spool);
        }
        return removed;
    }

    public List<VoicemailMessage> list(@Header("ext") String extension) throws IOException {
        Path box = mailbox(extension);
        return Files.isDirectory(box) ? readAll(box, true) : List.of();
    }

    public Path audioFile(@Header("ext") String extension, @Header("id") String id) throws IOException {
        find(extension, id);
        return mailbox(extension).resolve(id + ".wav");
    }

    public VoicemailMessage markHeard(@Header("ext") String extension, @Header("id") String id) throws IOException {
        VoicemailMessage heard = find(extension, id).asHeard();
        writeDurably(mailbox(extension).resolve(id + ".json"), json.writeValueAsBytes(heard));
        unheard(extension).remove(id);
        return heard;
    }

    public void delete(@Header("ext") String extension, @Header("id") String id) throws IOException {
        find(extension, id);
        Path box = mailbox(extension);
        Files.delete(box.resolve(id + ".json")); // gone from the list first, then its audio
        unheard(extension).remove(id);
        Files.deleteIfExists(box.resolve(id + ".wav"));
        fsyncDirectory(box);
    }

    /** The message-waiting count: messages not yet heard. */
    public int waiting(@Header("ext") String extension) {
        return unheard(extension).size();
    }

    /** A mailbox's unheard message ids, read from its files the first time. */
    private Set<String> unheard(String extension) {
        return unheardByMailbox.computeIfAbsent(extension, ext -> {
            Set<String> ids = ConcurrentHashMap.newKeySet();
            Path box = mailbox(ext);
            if (!Files.isDirectory(box)) {
                return ids;
            }
            try {
                for (Path f : metadataFiles(box)) {
                    try {
                        VoicemailMessage message = read(f);
                        if (!message.heard()) {
                            ids.add(message.id());
                        }
                    } catch (NoSuchFileException deletedMeanwhile) {
                        // not waiting
                    } catch (IOException | RuntimeException unreadable) {
                        LOG.warn("Left {} out of the waiting count: unreadable metadata ({})", f, Printable.of(unreadable.getMessage()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read mailbox " + ext, e);
            }
            return ids;
        });
    }

    private VoicemailMessage find(String extension, String id) throws IOException {
        requireMessageId(id);
        try {
            return read(mailbox(extension).resolve(id + ".json"));
        } catch (NoSuchFileException e) {
            throw RejectedRequest.notFound("no message " + id + " in mailbox " + extension);
        }
    }

    private Path mailbox(String extension) {
        Directory.requireExtensionSyntax(extension); // digits only: cannot leave the mailboxes directory
        return mailboxes.resolve(extension);
    }

    public static void requireMessageId(String id) {
        if (id == null || !MESSAGE_ID.matcher(id).matches()) {
            throw RejectedRequest.badRequest("message id must be letters, digits and dashes, got '" + Printable.of(id) + "'");
        }
    }

    /** A directory's message metadata files, those being written (temporary names) left out. */
    private static List<Path> metadataFiles(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                if (!f.getFileName().toString().startsWith(TEMP_PREFIX)) {
                    found.add(f);
                }
            }
        }
        return found;
    }

    /** {@code skipUnreadable}: a mailbox listing leaves a damaged file out (logged); the spool's recovery fails on it. */
    private List<VoicemailMessage> readAll(Path dir, boolean skipUnreadable) throws IOException {
        List<VoicemailMessage> messages = new ArrayList<>();
        for (Path f : metadataFiles(dir)) {
            try {
                messages.add(read(f));
            } catch (NoSuchFileException deletedMeanwhile) {
                // not listed
            } catch (IOException | RuntimeException unreadable) {
                if (!skipUnreadable) {
                    throw unreadable;
                }
                // one damaged file must not take the whole mailbox down: the others are listed
                LOG.warn("Left {} out of the listing: unreadable metadata ({})", f, Printable.of(unreadable.getMessage()));
            }
        }
        messages.sort(Comparator.comparing(VoicemailMessage::receivedAt, Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(VoicemailMessage::id, Comparator.nullsFirst(Comparator.naturalOrder())));
        return messages;
    }

    private VoicemailMessage read(Path metadata) throws IOException {
        return json.readValue(Files.readAllBytes(metadata), VoicemailMessage.class);
    }

    private void writeDurably(Path target, byte[] content) throws IOException {
        writeForced(target, content);
        fsyncDirectory(target.getParent());
    }

    /** Writes under a temporary name, forces the content to disk, then renames: never a partial file under its name. */
    private static void writeForced(Path target, byte[] content) throws IOException {
        Path temp = target.resolveSibling(TEMP_PREFIX + target.getFileName());
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        }
        moveDurably(temp, target);
    }

    private static void moveDurably(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the data directory must be one file system: cannot rename " + from + " to " + to, e);
        }
    }

    public static void fsyncFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    public static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
