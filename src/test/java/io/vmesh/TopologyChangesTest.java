package io.vmesh;

import io.vmesh.topology.Directory;
import io.vmesh.topology.TopologyChanges;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** What a changed topology.yaml does to the directory a running server answers from. */
class TopologyChangesTest {

    @TempDir
    Path dir;
    private Path file;
    private Directory directory;
    private TopologyChanges changes;
    private final List<TopologyChanges.Change> told = new ArrayList<>();

    @BeforeEach
    void hqWithTheTestTopology() {
        file = new TestTopology(dir.resolve("config")).configDir.resolve("topology.yaml");
        directory = Directory.load(file);
        changes = new TopologyChanges("hq", directory, file).onChange(told::add);
    }

    private String yaml() throws Exception {
        return Files.readString(file);
    }

    @Test
    void aRangeMovedAndAServerAddedAreAnsweredFromAtOnce() throws Exception {
        String moved = yaml().replace("servers:\n", "servers:\n  - id: north\n    url: http://127.0.0.1:1\n    management: http://127.0.0.1:2\n")
                .replace("extensions:\n", "extensions:\n  - range: 3100-3199\n    home: north\n");

        assertThat(changes.apply(moved)).isTrue();

        assertThat(directory.homeOf("3150")).isEqualTo("north");
        assertThat(directory.homeOf("3200")).isEqualTo("west");
        assertThat(directory.urlOf("north")).isEqualTo("http://127.0.0.1:1");
        assertThat(told).singleElement().satisfies(c -> {
            assertThat(c.added()).containsExactly("north");
            assertThat(c.removed()).isEmpty();
            assertThat(c.rangesChanged()).isTrue();
        });
    }

    @Test
    void theSameTopologyAgainChangesNothing() throws Exception {
        assertThat(changes.apply(yaml() + "\n# a comment\n")).isFalse();
        assertThat(told).isEmpty();
    }

    @Test
    void aFileWithAnErrorIsRefusedAndTheTopologyInForceStays() throws Exception {
        String unknownHome = yaml().replace("home: west", "home: wset");
        String notYaml = "servers: [ {id: hq\n";
        String withoutHq = yaml().replace("id: hq\n", "id: hq-old\n").replace("home: hq\n", "home: hq-old\n");

        assertThat(changes.apply(unknownHome)).isFalse();
        assertThat(changes.apply(notYaml)).isFalse();
        assertThat(changes.apply(withoutHq)).isFalse();

        assertThat(directory.homeOf("3100")).isEqualTo("west");
        assertThat(directory.server("hq")).isPresent();
        assertThat(told).isEmpty();
    }
}
