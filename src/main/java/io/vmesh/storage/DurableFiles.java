package io.vmesh.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * How vmesh writes a file that must survive a crash or a power cut, and keeps it private: written
 * under a temporary name, forced to disk, renamed, the directory forced. Files are created 0600 and
 * directories 0700, set at creation (not left to the umask): recordings, their metadata and PIN
 * hashes are for the server's own user only.
 */
public final class DurableFiles {

    /** The name prefix of a file being written; readers skip such files, start-up removes them. */
    public static final String TEMP_PREFIX = ".part-";

    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final FileAttribute<?>[] PRIVATE_FILE = POSIX
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
            : new FileAttribute<?>[0];
    private static final FileAttribute<?>[] PRIVATE_DIRECTORY = POSIX
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
            : new FileAttribute<?>[0];

    private DurableFiles() {
    }

    /** Opens a new file (it must not exist) for writing, created 0600. */
    public static FileChannel createPrivateFile(Path file) throws IOException {
        return FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), PRIVATE_FILE);
    }

    /** Opens a file for appending, created 0600 if it is new. */
    public static FileChannel openPrivateForAppend(Path file) throws IOException {
        return FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND), PRIVATE_FILE);
    }

    /** Creates the directory and any missing parents, each 0700; one that exists is left as it is. */
    public static Path createPrivateDirectories(Path dir) throws IOException {
        return Files.createDirectories(dir, PRIVATE_DIRECTORY);
    }

    /**
     * Writes {@code content} under a temporary name (0600), forces it to disk and renames it to
     * {@code target}: never a partial file under its name. The directory is not forced.
     */
    public static void writeForced(Path target, byte[] content) throws IOException {
        Path temp = target.resolveSibling(TEMP_PREFIX + target.getFileName());
        Files.deleteIfExists(temp); // a crash's leftover keeps the mode it had
        move(writeForcedAt(temp, content), target);
    }

    /**
     * The first half of {@link #writeForced} for writers that may race for one target: {@code content}
     * written and forced under a temporary name of its own beside {@code target}, which is returned;
     * renaming it to {@code target} (or deleting it) is the caller's.
     */
    public static Path writeForcedBeside(Path target, byte[] content) throws IOException {
        return writeForcedAt(target.resolveSibling(TEMP_PREFIX + target.getFileName() + "."
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong())), content);
    }

    private static Path writeForcedAt(Path temp, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PRIVATE_FILE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        }
        return temp;
    }

    /** {@link #writeForced}, then the directory forced too: the new name survives a power cut. */
    public static void writeDurably(Path target, byte[] content) throws IOException {
        writeForced(target, content);
        fsyncDirectory(target.getParent());
    }

    /** Renames atomically, replacing what is there; the directories are not forced. */
    public static void move(Path from, Path to) throws IOException {
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
}
