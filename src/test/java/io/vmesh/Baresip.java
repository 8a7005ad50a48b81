package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * Debian's baresip as the caller or the phone: a config directory of its own (modules menu, account,
 * g711, aufile, mwi; everything on 127.0.0.1), one account with a switch's digest credentials and no
 * registration. Its output, with every SIP message it sends and receives ({@code -s}), goes to
 * {@code baresip.log} in that directory: what a failing test prints.
 */
final class Baresip implements AutoCloseable {

    final Path dir;
    private Process process;

    /**
     * @param aor     the account's address, e.g. {@code sip:1300@127.0.0.1:5071}
     * @param speech  the WAV baresip plays as its microphone
     */
    Baresip(Path dir, String aor, String switchId, String password, Path speech) {
        this(dir, aor, switchId, password, speech, false);
    }

    /** With {@code mwi}, the account registers (baresip subscribes to message waiting once registered). */
    Baresip(Path dir, String aor, String switchId, String password, Path speech, boolean mwi) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config"), String.join("\n",
                    "poll_method epoll",
                    "net_interface 127.0.0.1",
                    "audio_player aufile," + dir.resolve("heard.wav"),
                    "audio_source aufile," + speech,
                    "audio_alert aufile," + dir.resolve("alert.wav"),
                    "audio_level no",
                    "ausrc_format s16",
                    "auplay_format s16",
                    "jitter_buffer_delay 1-10",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module_tmp account.so",
                    "module_app menu.so",
                    "module_app mwi.so",
                    ""));
            Files.writeString(dir.resolve("accounts"), "<" + aor + ">;auth_user=" + switchId + ";auth_pass=" + password
                    + ";regint=" + (mwi ? 600 : 0) + ";mwi=" + (mwi ? "yes" : "no") + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts baresip; it runs the commands (e.g. {@code /dial sip:...}) and quits after {@code quitAfter}, hanging up. */
    Baresip start(Duration quitAfter, String... commands) {
        List<String> command = new ArrayList<>(List.of("baresip", "-s", "-f", dir.toString(), "-t", String.valueOf(quitAfter.toSeconds())));
        for (String c : commands) {
            command.add("-e");
            command.add(c);
        }
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("baresip.log").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("baresip (Debian package baresip-core) must be installed", e);
        }
        return this;
    }

    /**
     * Starts baresip as a phone ({@code mwi}) and returns once its subscription's first NOTIFY is in.
     * Debian's baresip 1.0.0 has a race in its mwi module: a timer 1 ms after the module loads subscribes
     * every account already in its list, and each subscription appends to the list it walks; an account
     * that registered before that timer ran (a busy machine) makes it subscribe forever, thousands of
     * SUBSCRIBEs a second, never reading an answer (seen in a CI run: 72,283 in 30 s). The server is not
     * involved; such a phone is started again, up to three times.
     */
    Baresip startSubscribed(Duration quitAfter) {
        for (int attempt = 1; ; attempt++) {
            start(quitAfter);
            try {
                // baresip registers, then subscribes; under load that can take a while
                await().atMost(Duration.ofSeconds(30)).until(() -> output().contains("Messages-Waiting:") || subscribesForever());
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            if (!subscribesForever() || attempt == 3) {
                return this;
            }
            close();
        }
    }

    /** baresip subscribes once per registration; more, with no NOTIFY read, is its mwi module's endless loop. */
    private boolean subscribesForever() {
        String out = output();
        int first = out.indexOf("mwi: subscribing");
        return first >= 0 && out.indexOf("mwi: subscribing", first + 1) >= 0 && !out.contains("Messages-Waiting:");
    }

    /** Waits for baresip to quit by itself. */
    void awaitExit(Duration atMost) throws InterruptedException {
        if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("baresip did not quit within " + atMost + "; its output:\n" + output());
        }
    }

    String output() {
        try {
            return Files.exists(dir.resolve("baresip.log")) ? Files.readString(dir.resolve("baresip.log")) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
