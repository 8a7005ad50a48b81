package io.vmesh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback that cuts the first {@code cuts} migrations ({@code POST /peer/voicemail})
 * in the middle of their body: it forwards {@code bytesBeforeCut} bytes, then closes both sides.
 * Everything else passes through untouched.
 */
final class CuttingProxy implements AutoCloseable {

    final int port;
    final AtomicInteger cutsLeft;
    final AtomicInteger cutsDone = new AtomicInteger();
    private final int targetPort;
    private final int bytesBeforeCut;
    private final ServerSocket server;

    CuttingProxy(int port, int targetPort, int cuts, int bytesBeforeCut) throws IOException {
        this.port = port;
        this.targetPort = targetPort;
        this.cutsLeft = new AtomicInteger(cuts);
        this.bytesBeforeCut = bytesBeforeCut;
        this.server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "cutting-proxy-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                // closed, or the target is down: the client sees its connection fail
            }
        }
    }

    private void pump(Socket from, Socket to, boolean inspect) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            long forwarded = 0;
            boolean cutThis = false;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                boolean first = true;
                while ((n = in.read(buf)) >= 0) {
                    if (inspect && first) {
                        String head = new String(buf, 0, Math.min(n, 32), StandardCharsets.ISO_8859_1);
                        cutThis = head.startsWith("POST /peer/voicemail") && cutsLeft.getAndDecrement() > 0;
                        first = false;
                    }
                    if (cutThis && forwarded + n >= bytesBeforeCut) {
                        out.write(buf, 0, (int) (bytesBeforeCut - forwarded));
                        out.flush();
                        cutsDone.incrementAndGet();
                        break; // the connection dies mid-body
                    }
                    out.write(buf, 0, n);
                    out.flush();
                    forwarded += n;
                }
            } catch (IOException e) {
                // the other side went away
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "cutting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
