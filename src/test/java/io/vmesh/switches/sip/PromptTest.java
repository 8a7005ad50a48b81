package io.vmesh.switches.sip;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a caller hears before the recording: the shipped greeting, then the tone. */
class PromptTest {

    @Test
    void theShippedGreetingIsSpeechSeveralSecondsLongFollowedByTheTone() {
        byte[] prompt = Prompt.load(Path.of("camel-config/greeting.wav"));

        double seconds = prompt.length / 2 / 8000.0;
        assertThat(seconds).isBetween(5.0, 20.0);
    }

    @Test
    void aGreetingThatIsNoWavStopsTheStartWithTheReason(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path notAudio = Files.writeString(dir.resolve("greeting.wav"), "hello");

        assertThatThrownBy(() -> Prompt.load(notAudio)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vmesh.sip.greeting");
    }
}
