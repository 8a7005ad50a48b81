package io.vmesh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's sipsak: one request (OPTIONS, or a hand-written one from a file), its answer and exit code. */
final class Sipsak {

    record Result(int exitCode, String output) {
        /** The status line of the last final response sipsak printed, e.g. {@code SIP/2.0 404 Not Found}. */
        String lastStatus() {
            String last = "";
            for (String line : output.split("\\R")) {
                if (line.startsWith("SIP/2.0 ") && !line.startsWith("SIP/2.0 1")) {
                    last = line.trim();
                }
            }
            return last;
        }
    }

    private Sipsak() {
    }

    static Result run(String... args) {
        List<String> command = new ArrayList<>(List.of("sipsak", "-vvv"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("sipsak did not finish: " + command);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("sipsak (Debian package sipsak) must be installed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends the request in {@code request} (a file sipsak reads) to {@code uri}, as {@code user} with {@code password} when given. */
    static Result send(Path dir, String request, String uri, String user, String password) {
        try {
            Path file = Files.createTempFile(dir, "request", ".sip");
            Files.writeString(file, request);
            List<String> args = new ArrayList<>(List.of("-f", file.toString(), "-s", uri));
            if (user != null) {
                args.addAll(List.of("-u", user, "-a", password));
            }
            return run(args.toArray(String[]::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A message-summary SUBSCRIBE for {@code ext} at {@code server}. */
    static String subscribe(String ext, String server, String event, int expires) {
        return "SUBSCRIBE sip:" + ext + "@" + server + " SIP/2.0\r\n"
                + "From: <sip:" + ext + "@127.0.0.1>;tag=" + Long.toHexString(System.nanoTime()) + "\r\n"
                + "To: <sip:" + ext + "@" + server + ">\r\n"
                + "Call-ID: " + java.util.UUID.randomUUID() + "@127.0.0.1\r\n"
                + "CSeq: 1 SUBSCRIBE\r\n"
                + "Contact: <sip:" + ext + "@127.0.0.1>\r\n"
                + "Max-Forwards: 70\r\n"
                + "Event: " + event + "\r\n"
                + "Accept: application/simple-message-summary\r\n"
                + "Expires: " + expires + "\r\n"
                + "Content-Length: 0\r\n\r\n";
    }

    /** An INVITE to {@code ext} at {@code server} offering {@code formats} (e.g. "0 8 101"), with extra header lines. */
    static String invite(String ext, String server, String formats, String... headers) {
        String sdp = "v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                + "m=audio 40000 RTP/AVP " + formats + "\r\na=rtpmap:101 telephone-event/8000\r\n";
        String callId = java.util.UUID.randomUUID() + "@127.0.0.1";
        return "INVITE sip:" + ext + "@" + server + " SIP/2.0\r\n"
                + "From: <sip:5550100@127.0.0.1>;tag=" + Long.toHexString(System.nanoTime()) + "\r\n"
                + "To: <sip:" + ext + "@" + server + ">\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: 1 INVITE\r\n"
                + "Contact: <sip:5550100@127.0.0.1>\r\n"
                + "Max-Forwards: 70\r\n"
                + String.join("", java.util.Arrays.stream(headers).map(h -> h + "\r\n").toList())
                + "Content-Type: application/sdp\r\n"
                + "Content-Length: " + sdp.length() + "\r\n\r\n" + sdp;
    }
}
