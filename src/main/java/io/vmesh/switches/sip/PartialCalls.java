package io.vmesh.switches.sip;

import io.vmesh.storage.DurableFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The calls being recorded, on disk, so that a crash loses none of them:
 * <pre>
 * data/&lt;site&gt;/sip-calls/&lt;key&gt;.json      who called whom, through which switch (written and forced before the call is answered)
 * data/&lt;site&gt;/sip-calls/&lt;key&gt;.partial   the caller's audio as it arrives (the media side's format)
 * </pre>
 * Both go once the recording is a message (durable in the spool) or refused. What a start-up finds
 * here was interrupted and becomes a message through the same route.
 */
public final class PartialCalls {

    /** A call's metadata: the intake's parameters and when it began. */
    public record Call(String key, String to, String from, String switchId, String callId, String state, String startedAt) {
    }

    private final Path dir;
    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public PartialCalls(Path dir) {
        this.dir = dir;
        try {
            DurableFiles.createPrivateDirectories(dir); // 0700: the recordings of calls in progress
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    public Path audioOf(String key) {
        return dir.resolve(key + ".partial");
    }

    /** Writes the call's metadata durably: a crash after the answer finds it. */
    public void begin(Call call) throws IOException {
        DurableFiles.writeDurably(dir.resolve(call.key() + ".json"), json.writeValueAsBytes(call));
    }

    /** The call is a message now, or was refused: its files go. */
    public void end(String key) {
        try {
            Files.deleteIfExists(dir.resolve(key + ".json"));
            Files.deleteIfExists(audioOf(key));
            DurableFiles.fsyncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the partial call " + key, e);
        }
    }

    /** Calls a crash interrupted (at start-up, before any new call). */
    public List<Call> interrupted() throws IOException {
        List<Call> calls = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                if (!f.getFileName().toString().startsWith(DurableFiles.TEMP_PREFIX)) {
                    calls.add(json.readValue(f.toFile(), Call.class));
                }
            }
        }
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, DurableFiles.TEMP_PREFIX + "*")) {
            for (Path t : temps) {
                Files.deleteIfExists(t); // a call that was never answered
            }
        }
        try (DirectoryStream<Path> audio = Files.newDirectoryStream(dir, "*.partial")) {
            for (Path a : audio) {
                String key = a.getFileName().toString().replaceFirst("\\.partial$", "");
                if (!Files.exists(dir.resolve(key + ".json"))) {
                    Files.deleteIfExists(a); // its media was opened, the call never answered
                }
            }
        }
        return calls;
    }
}
