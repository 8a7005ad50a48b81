package io.vmesh.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reading and writing a directory's message metadata ({@code <id>.json}), for the spool and the mailboxes. */
final class MessageFiles {

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

    /** Every message of a directory, oldest first. */
    static List<VoicemailMessage> readAll(Path dir) throws IOException {
        List<VoicemailMessage> messages = new ArrayList<>();
        for (Path f : metadataFiles(dir)) {
            messages.add(read(f));
        }
        messages.sort(Comparator.comparing(VoicemailMessage::receivedAt).thenComparing(VoicemailMessage::id));
        return messages;
    }
}
