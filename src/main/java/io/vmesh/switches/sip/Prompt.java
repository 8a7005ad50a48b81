package io.vmesh.switches.sip;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * What a caller hears before recording starts: the system greeting ({@code vmesh.sip.greeting}, a WAV
 * in any format the JDK converts to 8 kHz mono, {@code camel-config/greeting.wav} as shipped), then a
 * short tone. Read once at start; as 8 kHz mono signed 16-bit little-endian PCM.
 */
public final class Prompt {

    private static final AudioFormat PCM = new AudioFormat(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1, 2, 8000f, false);
    private static final double TONE_HZ = 1000;
    private static final double TONE_SECONDS = 0.4;
    private static final double GAP_SECONDS = 0.2;

    private Prompt() {
    }

    public static byte[] load(Path greeting) {
        ByteArrayOutputStream prompt = new ByteArrayOutputStream();
        try (InputStream file = new BufferedInputStream(Files.newInputStream(greeting));
             AudioInputStream source = AudioSystem.getAudioInputStream(file);
             AudioInputStream pcm = AudioSystem.getAudioInputStream(PCM, source)) {
            prompt.write(pcm.readAllBytes());
        } catch (IOException | UnsupportedAudioFileException | IllegalArgumentException e) {
            throw new IllegalArgumentException("vmesh.sip.greeting " + greeting + " is not a WAV that converts to 8 kHz mono PCM: "
                    + e.getMessage(), e);
        }
        prompt.writeBytes(new byte[(int) (GAP_SECONDS * 8000) * 2]);
        prompt.writeBytes(tone());
        return prompt.toByteArray();
    }

    private static byte[] tone() {
        int samples = (int) (TONE_SECONDS * 8000);
        ByteBuffer tone = ByteBuffer.allocate(samples * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < samples; i++) {
            double fade = Math.min(1, Math.min(i, samples - i) / 80.0); // 10 ms ramps: no clicks
            tone.putShort((short) (8000 * fade * Math.sin(2 * Math.PI * TONE_HZ * i / 8000)));
        }
        return tone.array();
    }
}
