package io.vmesh;

import java.nio.file.Path;
import java.time.Instant;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code GET /migrations} counts, when the queue-migration route's note that a message is queued
 * comes after the migration consumer has finished with it (seen under load by the demo: a message
 * delivered to west and still counted as waiting for it).
 */
class MigrationBacklogTest {

    @TempDir
    Path dir;
    MigrationBacklog backlog;

    @BeforeEach
    void backlogOfHq() throws Exception {
        Directory directory = Directory.load(new TestTopology(dir.resolve("config")).configDir.resolve("topology.yaml"));
        backlog = new MigrationBacklog("hq", directory, new PeerAvailability(directory, 100),
                new VoicemailStore("hq", dir.resolve("data").toString()));
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
    void aMessageDeliveredBeforeItsQueuedNoteArrivesIsNotCountedAsWaiting() {
        backlog.delivered("hq-2", "west"); // the consumer was faster than the route that queued it
        backlog.queued("hq-2", "west", Instant.now().toString());

        assertThat(backlog.report().get("west").pending()).isZero();
        assertThat(backlog.report().get("west").delivered()).isEqualTo(1);
    }

    @Test
    void aMessageDeadLetteredBeforeItsQueuedNoteArrivesIsNotCountedAsWaitingNorTwice() {
        backlog.deadLettered("hq-3", "east");
        backlog.queued("hq-3", "east", Instant.now().toString());

        assertThat(backlog.report().get("east").pending()).isZero();
        assertThat(backlog.report().get("east").deadLettered()).isEqualTo(1);
        assertThat(backlog.report().get("east").delivered()).isZero();
    }

    @Test
    void aDeliveryToAnotherHomeDoesNotHideTheMessageFromItsNewHome() {
        backlog.delivered("hq-4", "east"); // the directory moved the extension: no longer east's
        backlog.queued("hq-4", "west", Instant.now().toString());

        assertThat(backlog.report().get("west").pending()).isEqualTo(1);
    }
}
