package io.vmesh.storage;

import io.vmesh.RejectedRequest;
import io.vmesh.security.Printable;
import io.vmesh.topology.Directory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.Body;
import org.apache.camel.Header;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FIG. 4's storage interface (335), its second half: the mailboxes of the extensions homed here,
 * each message {@code <id>.wav} plus {@code <id>.json}, every change forced to disk, files and
 * directories. Also the message-waiting count of each mailbox.
 *
 * <pre>
 * data/&lt;site&gt;/mailboxes/&lt;ext&gt;/&lt;id&gt;.wav|.json   delivered to an extension homed here
 * </pre>
 */
public final class Mailboxes {

    private static final Logger LOG = LoggerFactory.getLogger(Mailboxes.class);

    private final Path dir;
    private final Spool spool;
    /**
     * Each mailbox asked for so far: its lock, which makes the changes to one mailbox one at a time
     * (a message marked heard while it is deleted must not come back), and the ids of its unheard
     * messages: the message-waiting count, without listing the mailbox for every new message (10,000
     * messages into 50 mailboxes made that a walk of 200 files per message). The ids are read from
     * the mailbox's files the first time they are asked for, then kept current by every change made
     * here; their number is the count.
     */
    private final Map<String, Box> boxes = new ConcurrentHashMap<>();

    private static final class Box {
        /** Null until read from the mailbox's files, under the box's lock. */
        private Set<String> unheard;
    }

    public Mailboxes(Path dataDir, Spool spool) {
        this.dir = dataDir.resolve("mailboxes");
        this.spool = spool;
        try {
            DurableFiles.createPrivateDirectories(dir);
            removeUnfinishedWrites();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }
    }

    /**
     * Start-up clean-up, before anything is stored: the temporary files of stores a crash interrupted
     * (a message is visible only once renamed; its sender, never answered 201, sends it again).
     */
    private void removeUnfinishedWrites() throws IOException {
        try (DirectoryStream<Path> boxes = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path box : boxes) {
                try (DirectoryStream<Path> unfinished = Files.newDirectoryStream(box, DurableFiles.TEMP_PREFIX + "*")) {
                    for (Path f : unfinished) {
                        LOG.warn("Removing {}: a store into mailbox {} interrupted before it was acknowledged", f.getFileName(), box.getFileName());
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    /** Whether the message is in the extension's mailbox. */
    public boolean holds(@Variable("messageId") String id, @Header("to") String extension) {
        VoicemailMessage.requireValidId(id);
        return Files.exists(mailbox(extension).resolve(id + ".json"));
    }

    /** Moves a spooled message into its home mailbox on this server; a message already there is not duplicated. */
    public VoicemailMessage deliverFromSpool(@Variable("messageId") String id) throws IOException {
        VoicemailMessage message = spool.message(id);
        Path box;
        synchronized (box(message.extension())) {
            box = open(message.extension());
            spool.handOver(id, box); // visible from here on
            unheard(message.extension()).add(id);
        }
        // the mailbox's entries are what the 201 promises. The spool's directory is not forced again:
        // should a power cut bring its entries back, start-up delivers them again, idempotently.
        DurableFiles.fsyncDirectory(box);
        return message;
    }

    /**
     * Stores a message a peer migrated here in its mailbox: the audio, then the metadata (which makes
     * it visible), each under a temporary name, forced to disk and renamed, then the mailbox directory
     * forced, so that the 201 that follows is a promise a power cut cannot break. A message already in
     * the mailbox (a retry whose first attempt was stored) is left as it is. Returns whether it was stored now.
     */
    public boolean store(@Variable("received") VoicemailMessage message, @Body byte[] audio) throws IOException {
        VoicemailMessage.requireValidId(message.id());
        Path metadata = mailbox(message.extension()).resolve(message.id() + ".json");
        if (Files.exists(metadata)) {
            return false;
        }
        Path box;
        synchronized (box(message.extension())) {
            box = open(message.extension());
        }
        // written and forced under temporary names outside the mailbox's lock: a burst into one mailbox is
        // not serialised on its disk writes; only the renames that make the message visible are
        Path audioFile = box.resolve(message.id() + ".wav");
        Path forcedAudio = null;
        Path forcedMetadata = null;
        try {
            forcedAudio = DurableFiles.writeForcedBeside(audioFile, audio);
            forcedMetadata = DurableFiles.writeForcedBeside(metadata, MessageFiles.bytes(message));
            synchronized (box(message.extension())) {
                if (Files.exists(metadata)) {
                    return false; // stored meanwhile by a concurrent retry
                }
                DurableFiles.move(forcedAudio, audioFile);
                DurableFiles.move(forcedMetadata, metadata);
                forcedAudio = null;
                forcedMetadata = null;
                unheard(message.extension()).add(message.id());
            }
        } finally {
            for (Path unused : new Path[] {forcedAudio, forcedMetadata}) {
                if (unused != null) {
                    Files.deleteIfExists(unused);
                }
            }
        }
        DurableFiles.fsyncDirectory(box); // the other changes to the mailbox need not wait for it
        return true;
    }

    public List<VoicemailMessage> list(@Header("ext") String extension) throws IOException {
        Path box = mailbox(extension);
        return Files.isDirectory(box) ? MessageFiles.readAll(box, true) : List.of();
    }

    /** The stored audio of a message; {@code 404} if it is not (or no longer: deleted meanwhile) in the mailbox. */
    public byte[] storedAudio(@Header("ext") String extension, @Header("id") String id) throws IOException {
        find(extension, id);
        try {
            return Files.readAllBytes(mailbox(extension).resolve(id + ".wav"));
        } catch (NoSuchFileException deletedMeanwhile) {
            throw RejectedRequest.notFound("no message " + id + " in mailbox " + extension);
        }
    }

    /** Marks the message heard; {@code 404} if it is not (or no longer) in the mailbox. */
    public VoicemailMessage markHeard(@Header("ext") String extension, @Header("id") String id) throws IOException {
        synchronized (box(extension)) { // not while it is being deleted: its metadata would come back without audio
            VoicemailMessage heard = find(extension, id).asHeard();
            DurableFiles.writeDurably(mailbox(extension).resolve(id + ".json"), MessageFiles.bytes(heard));
            unheard(extension).remove(id);
            return heard;
        }
    }

    /** Deletes the message and its audio; {@code 404} if it is not (or no longer) in the mailbox. */
    public void delete(@Header("ext") String extension, @Header("id") String id) throws IOException {
        synchronized (box(extension)) {
            find(extension, id);
            Path box = mailbox(extension);
            Files.delete(box.resolve(id + ".json")); // gone from the list first, then its audio
            unheard(extension).remove(id);
            Files.deleteIfExists(box.resolve(id + ".wav"));
            DurableFiles.fsyncDirectory(box);
        }
    }

    /**
     * The ids of the messages in each mailbox of the data directory {@code dataDir}, by extension,
     * read from disk without opening the mailboxes: for a tool looking at a server's data from outside.
     */
    public static Map<String, List<String>> idsOnDisk(Path dataDir) throws IOException {
        Map<String, List<String>> ids = new java.util.TreeMap<>();
        Path dir = dataDir.resolve("mailboxes");
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> boxes = Files.newDirectoryStream(dir, Files::isDirectory)) {
                for (Path box : boxes) {
                    ids.put(box.getFileName().toString(), MessageFiles.ids(box));
                }
            }
        }
        return ids;
    }

    /** The message-waiting count: messages not yet heard. */
    public int waiting(@Header("ext") String extension) {
        return unheard(extension).size();
    }

    /** An extension's mailbox directory (0700), created the first time; then its parent is forced to disk too. */
    private Path open(String extension) throws IOException {
        Path box = mailbox(extension);
        if (!Files.isDirectory(box)) {
            DurableFiles.createPrivateDirectories(box);
            DurableFiles.fsyncDirectory(dir);
        }
        return box;
    }

    /** The mailbox's lock and count (the map's lock is held for no I/O: other mailboxes are not held up). */
    private Box box(String extension) {
        Directory.requireExtensionSyntax(extension);
        return boxes.computeIfAbsent(extension, ext -> new Box());
    }

    /** A mailbox's unheard message ids, read from its files the first time, under the mailbox's lock. */
    private Set<String> unheard(String extension) {
        Box box = box(extension);
        synchronized (box) {
            if (box.unheard == null) {
                box.unheard = readUnheard(extension);
            }
            return box.unheard;
        }
    }

    private Set<String> readUnheard(String extension) {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        Path box = mailbox(extension);
        if (!Files.isDirectory(box)) {
            return ids;
        }
        try {
            for (Path f : MessageFiles.metadataFiles(box)) {
                try {
                    VoicemailMessage message = MessageFiles.read(f);
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
            throw new UncheckedIOException("cannot read mailbox " + extension, e);
        }
        return ids;
    }

    private VoicemailMessage find(String extension, String id) throws IOException {
        VoicemailMessage.requireValidId(id);
        try {
            return MessageFiles.read(mailbox(extension).resolve(id + ".json"));
        } catch (NoSuchFileException e) {
            throw RejectedRequest.notFound("no message " + id + " in mailbox " + extension);
        }
    }

    private Path mailbox(String extension) {
        Directory.requireExtensionSyntax(extension); // digits only: cannot leave the mailboxes directory
        return dir.resolve(extension);
    }
}
