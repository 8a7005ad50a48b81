package io.vmesh.storage;

import io.vmesh.security.Printable;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reading and writing a directory's message metadata ({@code <id>.json}), for the spool and the mailboxes. */
final class MessageFiles {

    private static final Logger LOG = LoggerFactory.getLogger(MessageFiles.class);

    static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private MessageFiles() {
    }

    static VoicemailMessage read(Path metadata) throws IOException {
        return JSON.readValue(Files.readAllBytes(metadata), VoicemailMessage.class);
    }

    static byte[] bytes(Object value) throws IOException {
        return JSON.writeValueAsBytes(value);
    }

    /** A directory's message metadata files, those being written (temporary names) left out. */
    static List<Path> metadataFiles(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                if (!f.getFileName().toString().startsWith(DurableFiles.TEMP_PREFIX)) {
                    found.add(f);
                }
            }
        }
        return found;
    }

    /** The ids of a directory's messages, sorted; none if the directory does not exist. */
    static List<String> ids(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> ids = new ArrayList<>();
        for (Path f : metadataFiles(dir)) {
            String name = f.getFileName().toString();
            ids.add(name.substring(0, name.length() - ".json".length()));
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    /**
     * Every message of a directory, oldest first. {@code skipUnreadable}: a mailbox listing leaves a
     * damaged file out (logged); the spool's recovery fails on it.
     */
    static List<VoicemailMessage> readAll(Path dir, boolean skipUnreadable) throws IOException {
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
}
