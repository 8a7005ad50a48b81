package io.vmesh.audio;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Debian's SoX ({@code apt-get install sox}) as a child process: what the JDK's sampled-audio
 * providers cannot do well enough, SoX does. It decodes GSM 6.10, IMA ADPCM and Microsoft ADPCM
 * WAVs, and resamples through its linear-phase low-pass filter (the JDK's resamplers alias: see
 * docs/audio.md). Audio goes in on standard input and comes out on standard output as PCM 16-bit
 * little-endian mono; no file name of the caller's ever reaches the command line.
 *
 * <p>Bounded: at most {@code maxBytes} of output are read (the caller's length limit, so that a
 * small compressed file cannot expand without end), each run ends after {@link #TIMEOUT_SECONDS},
 * and at most one run per processor is under way at a time.
 */
final class Sox {

    static final long TIMEOUT_SECONDS = 30;
    private static final int STDERR_KEPT = 2048;
    private static final Semaphore RUNNING = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));
    /** Threads that feed a run's standard input, drain its standard error and stop it at its deadline: never the common pool's. */
    private static final ExecutorService PIPES = Executors.newCachedThreadPool(task -> {
        Thread t = new Thread(task, "sox-pipe");
        t.setDaemon(true);
        return t;
    });

    /** What a run produced: its output, or that the output went past the bound (then it was stopped). */
    record Output(byte[] pcm, boolean truncated) {
    }

    /** SoX refused the input (its own message), or could not run here ({@link #notRun}: a fault of this server's). */
    static final class Failed extends Exception {
        private final boolean notRun;

        Failed(String message, boolean notRun) {
            super(message, null, false, false);
            this.notRun = notRun;
        }

        boolean notRun() {
            return notRun;
        }
    }

    private final String command;

    Sox(String command) {
        this.command = command;
    }

    /** Whether the SoX command answers here at all. */
    boolean available() {
        Process p = null;
        try {
            p = new ProcessBuilder(command, "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (p != null) {
                p.destroyForcibly(); // a SoX that hangs is not left running
            }
        }
    }

    /** A whole WAV file (any codec SoX reads) as PCM 16-bit mono at {@code rate}, stereo averaged. */
    Output decodeWav(byte[] wav, int rate, long maxBytes) throws Failed {
        List<String> args = new ArrayList<>(List.of("-t", "wav", "-"));
        args.addAll(pcmOut(rate));
        return run(args, wav, maxBytes);
    }

    /** PCM 16-bit little-endian mono at {@code from} Hz, resampled to {@code to} Hz. */
    Output resample(byte[] pcm, int from, int to, long maxBytes) throws Failed {
        List<String> args = new ArrayList<>(List.of("-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-L",
                "-r", Integer.toString(from), "-"));
        args.addAll(pcmOut(to));
        return run(args, pcm, maxBytes);
    }

    /** Raw PCM 16-bit little-endian mono; SoX adds its channel mix and its high-quality rate effect. */
    private static List<String> pcmOut(int rate) {
        return List.of("-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-L", "-r", Integer.toString(rate), "-");
    }

    private Output run(List<String> args, byte[] input, long maxBytes) throws Failed {
        List<String> cmd = new ArrayList<>();
        cmd.add(command);
        cmd.add("-V1"); // failures only on standard error
        cmd.add("-D"); // no dither: the same input always gives the same output
        cmd.addAll(args);
        try {
            if (!RUNNING.tryAcquire(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new Failed("too many recordings are being converted at once", true);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while waiting to convert", true);
        }
        Process process = null;
        try {
            process = new ProcessBuilder(cmd).start();
            Process p = process;
            AtomicBoolean timedOut = new AtomicBoolean();
            CompletableFuture.delayedExecutor(TIMEOUT_SECONDS, TimeUnit.SECONDS, PIPES).execute(() -> {
                if (p.isAlive()) {
                    timedOut.set(true);
                    p.destroyForcibly();
                }
            });
            CompletableFuture<Void> feeding = CompletableFuture.runAsync(() -> feed(p.getOutputStream(), input), PIPES);
            CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> firstLine(p.getErrorStream()), PIPES);
            byte[] out = p.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 16, maxBytes + 1));
            if (out.length > maxBytes) {
                p.destroyForcibly();
                return new Output(java.util.Arrays.copyOf(out, (int) maxBytes), true);
            }
            boolean ended = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            feeding.join();
            String error = errors.join();
            if (!ended || p.exitValue() != 0) {
                if (!ended || timedOut.get()) {
                    throw new Failed("sox did not finish within " + TIMEOUT_SECONDS + " s", true);
                }
                throw new Failed(error.isBlank() ? "sox stopped with status " + p.exitValue() : error, false);
            }
            return new Output(out, false);
        } catch (IOException e) {
            if (process != null) { // started, then its pipes broke (stopped at the deadline)
                throw new Failed("sox stopped before it finished: " + e.getMessage(), true);
            }
            throw new Failed("sox could not be run (" + e.getMessage() + "); install it: apt-get install sox", true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while converting", true);
        } finally {
            if (process != null) {
                process.destroyForcibly();
            }
            RUNNING.release();
        }
    }

    /** Writes the input; SoX may stop reading early (a bad header, or stopped at the bound), which is not our error. */
    private static void feed(OutputStream stdin, byte[] input) {
        try (stdin) {
            stdin.write(input);
        } catch (IOException stoppedReading) {
            // its exit status and standard error say why
        }
    }

    /** The first line SoX wrote on standard error, without its "sox FAIL formats:" prefix. */
    private static String firstLine(InputStream stderr) {
        try (stderr) {
            byte[] kept = stderr.readNBytes(STDERR_KEPT);
            stderr.transferTo(OutputStream.nullOutputStream());
            String text = new String(kept, StandardCharsets.UTF_8).strip();
            int eol = text.indexOf('\n');
            String line = eol < 0 ? text : text.substring(0, eol);
            return line.replaceFirst("^sox (FAIL|WARN) [a-z]+: ", "").replaceAll("[^\\x20-\\x7e]", "?");
        } catch (IOException e) {
            return "";
        }
    }
}
