package io.vmesh;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A message-summary subscriber written out by hand over UDP, for what baresip cannot be made to do:
 * ask for a subscription of a few seconds, refresh it, and watch it expire. It answers every NOTIFY 200.
 */
final class RawSubscriber implements AutoCloseable {

    private final DatagramSocket socket;
    private final InetSocketAddress server;
    private final String ext;
    private final String callId = UUID.randomUUID() + "@127.0.0.1";
    private final String fromTag = Long.toHexString(System.nanoTime());
    private String toTag;
    private int cseq;
    final List<String> notifies = new ArrayList<>();

    RawSubscriber(InetSocketAddress server, String ext) throws Exception {
        this.server = server;
        this.ext = ext;
        this.socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    }

    /** SUBSCRIBE (or refresh) for {@code expires} seconds as {@code user}; returns the final response. */
    String subscribe(int expires, String user, String password) throws Exception {
        String uri = "sip:" + ext + "@" + server.getHostString() + ":" + server.getPort();
        String response = exchange(request(uri, expires, null));
        if (response.startsWith("SIP/2.0 401")) {
            String nonce = value(response, "nonce=\"([^\"]+)\"");
            String ha1 = md5(user + ":vmesh:" + password);
            String ha2 = md5("SUBSCRIBE:" + uri);
            String cnonce = "c0ffee";
            String digest = md5(ha1 + ":" + nonce + ":00000001:" + cnonce + ":auth:" + ha2);
            response = exchange(request(uri, expires, "Digest username=\"" + user + "\", realm=\"vmesh\", nonce=\"" + nonce
                    + "\", uri=\"" + uri + "\", response=\"" + digest + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"" + cnonce + "\""));
        }
        if (response.startsWith("SIP/2.0 200") && toTag == null) {
            toTag = value(response, "(?im)^To:.*;tag=([^;\\s]+)");
        }
        return response;
    }

    /** Waits up to {@code millis} for a NOTIFY whose text contains {@code text}; answers everything that comes meanwhile. */
    String awaitNotify(String text, long millis) throws Exception {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            String message = receive((int) Math.max(1, end - System.currentTimeMillis()));
            if (message != null && message.startsWith("NOTIFY") && message.contains(text)) {
                return message;
            }
        }
        throw new AssertionError("no NOTIFY with '" + text + "' within " + millis + " ms; got " + notifies);
    }

    private String exchange(String request) throws Exception {
        send(request);
        long end = System.currentTimeMillis() + 5000;
        while (System.currentTimeMillis() < end) {
            String message = receive(500);
            if (message != null && message.startsWith("SIP/2.0") && !message.startsWith("SIP/2.0 1")) {
                return message;
            }
        }
        throw new AssertionError("no answer to " + request.lines().findFirst().orElse(""));
    }

    private String receive(int timeoutMs) throws Exception {
        byte[] buffer = new byte[65535];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.setSoTimeout(timeoutMs);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            return null;
        }
        String message = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
        if (message.startsWith("NOTIFY")) {
            notifies.add(message);
            StringBuilder ok = new StringBuilder("SIP/2.0 200 OK\r\n");
            for (String line : message.split("\r\n")) {
                if (line.matches("(?i)^(Via|From|To|Call-ID|CSeq):.*")) {
                    ok.append(line).append("\r\n");
                }
            }
            send(ok.append("Content-Length: 0\r\n\r\n").toString());
        }
        return message;
    }

    private String request(String uri, int expires, String authorization) {
        cseq++;
        return "SUBSCRIBE " + uri + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + socket.getLocalPort() + ";rport;branch=z9hG4bK" + UUID.randomUUID() + "\r\n"
                + "From: <sip:" + ext + "@127.0.0.1>;tag=" + fromTag + "\r\n"
                + "To: <" + uri + ">" + (toTag == null ? "" : ";tag=" + toTag) + "\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: " + cseq + " SUBSCRIBE\r\n"
                + "Contact: <sip:" + ext + "@127.0.0.1:" + socket.getLocalPort() + ">\r\n"
                + "Max-Forwards: 70\r\n"
                + "Event: message-summary\r\n"
                + "Accept: application/simple-message-summary\r\n"
                + "Expires: " + expires + "\r\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                + "Content-Length: 0\r\n\r\n";
    }

    private void send(String message) throws Exception {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(bytes, bytes.length, server));
    }

    private static String value(String message, String regex) {
        Matcher m = Pattern.compile(regex).matcher(message);
        if (!m.find()) {
            throw new AssertionError("no " + regex + " in\n" + message);
        }
        return m.group(1);
    }

    private static String md5(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        socket.close();
    }
}
