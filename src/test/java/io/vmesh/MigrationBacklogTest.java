package io.vmesh;

import io.vmesh.migration.MigrationBacklog;
import io.vmesh.migration.PeerAvailability;
import io.vmesh.storage.Spool;
import io.vmesh.topology.Directory;

import java.nio.file.Path;
import java.time.Instant;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code GET /migrations} counts. The queue-migration route notes a message before it puts it
 * on the queue, so a fast consumer can never finish with it before the note (the demo saw that race
 * under load when the note came after the send).
 */
class MigrationBacklogTest {

    @TempDir
    Path dir;
    MigrationBacklog backlog;

    @BeforeEach
    void backlogOfHq() throws Exception {
        Directory directory = Directory.load(new TestTopology(dir.resolve("config")).configDir.resolve("topology.yaml"));
        backlog = new MigrationBacklog("hq", directory, new PeerAvailability(directory, 100, 250, null),
                new Spool("hq", dir.resolve("data"), id -> false));
    }

    @Test
    void aMessageQueuedThenDeliveredNoLongerWaits() {
        backlog.queued("hq-1", "west", Instant.now().toString());
        assertThat(backlog.report().get("west").pending()).isEqualTo(1);

        backlog.delivered("hq-1", "west");

        assertThat(backlog.report().get("west").pending()).isZero();
        assertThat(backlog.report().get("west").delivered()).isEqualTo(1);
    }

    @Test
    void aMessageWhoseExtensionMovedToAnotherHomeWaitsOnlyForTheNewOne() {
        backlog.queued("hq-4", "east", Instant.now().toString());

        backlog.forget("hq-4", "east"); // the directory moved the extension: no longer east's
        backlog.queued("hq-4", "west", Instant.now().toString());

        assertThat(backlog.report().get("east").pending()).isZero();
        assertThat(backlog.report().get("east").delivered()).isZero();
        assertThat(backlog.report().get("west").pending()).isEqualTo(1);
    }

    @Test
    void aDeadLetteredMessageNoLongerWaitsAndIsCountedOnce() {
        backlog.queued("hq-3", "east", Instant.now().toString());

        backlog.deadLettered("hq-3", "east");

        assertThat(backlog.report().get("east").pending()).isZero();
        assertThat(backlog.report().get("east").deadLettered()).isEqualTo(1);
    }
}
