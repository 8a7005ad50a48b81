package io.vmesh.switches.sip.media;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * Turns the partial file of a call that never finished (the server was killed mid-call) into the
 * recording it holds: every sample that reached the disk, whatever the header's sizes say. The RTP
 * counts of such a call are not known: they are 0.
 */
public final class PartialRecordings {

    private PartialRecordings() {
    }

    public static Recording recover(Path partialFile) throws IOException {
        byte[] file = Files.readAllBytes(partialFile);
        int data = PartialFile.dataChunk(file);
        AudioFormat format;
        try {
            format = AudioSystem.getAudioFileFormat(new ByteArrayInputStream(file, 0, data)).getFormat();
        } catch (UnsupportedAudioFileException e) {
            throw new IOException(partialFile.getFileName() + " is not a partial recording: " + e.getMessage(), e);
        }
        if (format.getSampleRate() != 8000f || format.getChannels() != 1 || format.getFrameSize() != 1) {
            throw new IOException(partialFile.getFileName() + " is not a partial G.711 recording: " + format);
        }
        byte[] samples = Arrays.copyOfRange(file, data, file.length);
        return new Recording(io.vmesh.audio.AudioCodec.toWav(samples, format), Duration.ofMillis(samples.length / 8L), 0, 0, 0);
    }
}
