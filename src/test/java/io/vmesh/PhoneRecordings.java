package io.vmesh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Recordings in the formats phone systems write (wideband, 48 kHz, stereo, 8/24-bit, float, GSM 6.10,
 * ADPCM), made at test time with Debian's SoX from the shipped speech samples, the way a PBX's own
 * tools make them. bin/test installs sox when it is missing.
 */
final class PhoneRecordings {

    private final Path dir;

    PhoneRecordings(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            for (String name : new String[] {"speech-01.wav", "speech-02.wav", "speech-03.wav"}) {
                Files.write(dir.resolve(name), Audio.resource(name));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** speech-01 (8 kHz, band-limited to 4 kHz) as it was shipped: the reference the others are measured against. */
    byte[] speech() {
        return read("speech-01.wav");
    }

    /** speech-01 at 16 kHz, plus a 5 kHz tone: wideband content that narrowing to 8 kHz must filter out. */
    byte[] wideband16k() {
        return cached("wideband-16k.wav", () -> {
            sox("speech-01.wav", "-r", "16000", "speech-16k.wav");
            sox("-r", "16000", "-c", "1", "-n", "-b", "16", "tone5k-16k.wav", "synth", "160846s", "sine", "5000", "vol", "0.05");
            sox("-m", "-v", "1", "speech-16k.wav", "-v", "1", "tone5k-16k.wav", "wideband-16k.wav");
        });
    }

    /** speech-01 at 48 kHz with tones at 5 kHz (kept at 16 kHz) and 12 kHz (above 16 kHz's band: must not alias). */
    byte[] pcm48k() {
        return cached("pcm-48k.wav", () -> {
            sox("speech-01.wav", "-r", "48000", "speech-48k.wav");
            sox("-r", "48000", "-c", "1", "-n", "-b", "16", "tone5k-48k.wav", "synth", "482538s", "sine", "5000", "vol", "0.05");
            sox("-r", "48000", "-c", "1", "-n", "-b", "16", "tone12k-48k.wav", "synth", "482538s", "sine", "12000", "vol", "0.05");
            sox("-m", "-v", "1", "speech-48k.wav", "-v", "1", "tone5k-48k.wav", "-v", "1", "tone12k-48k.wav", "pcm-48k.wav");
        });
    }

    /** A call recorder's 8 kHz stereo file: speech-02 on the left, speech-03 on the right. */
    byte[] stereo8k() {
        return cached("stereo-8k.wav", () -> sox("-M", "speech-02.wav", "speech-03.wav", "stereo-8k.wav"));
    }

    /** speech-01 in another sample encoding: e.g. {@code -e unsigned-integer -b 8}, {@code -b 24}, {@code -e floating-point -b 32}. */
    byte[] encoded(String name, String... encoding) {
        return cached(name, () -> {
            List<String> args = new ArrayList<>(List.of("speech-01.wav"));
            args.addAll(List.of(encoding));
            args.add(name);
            sox(args.toArray(String[]::new));
        });
    }

    /** Asterisk's wav49: GSM 6.10 in WAV (format tag 0x31, 65-byte blocks of 320 samples). */
    byte[] gsm() {
        return encoded("gsm.wav", "-e", "gsm-full-rate");
    }

    byte[] imaAdpcm() {
        return encoded("ima-adpcm.wav", "-e", "ima-adpcm");
    }

    byte[] msAdpcm() {
        return encoded("ms-adpcm.wav", "-e", "ms-adpcm");
    }

    private byte[] cached(String name, Runnable make) {
        if (!Files.exists(dir.resolve(name))) {
            make.run();
        }
        return read(name);
    }

    private byte[] read(String name) {
        try {
            return Files.readAllBytes(dir.resolve(name));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs sox in the recordings' directory; fails the test, never skips it, when sox is missing. */
    void sox(String... args) {
        List<String> command = new ArrayList<>(List.of("sox", "-V1", "-D"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(command + " failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("sox is needed to make the test recordings (bin/test installs it): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
