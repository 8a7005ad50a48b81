package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** The caller's side of a call's media: a real UDP socket on 127.0.0.1 that sends and receives RTP. */
final class FarEnd implements AutoCloseable {

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    final DatagramSocket socket;
    private final int ssrc;
    private final InetSocketAddress vmesh;

    FarEnd(MediaSession session) throws IOException {
        this(session.localPort(), 0x1234abcd);
    }

    FarEnd(int vmeshPort, int ssrc) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
        this.ssrc = ssrc;
        this.vmesh = new InetSocketAddress(LOOPBACK, vmeshPort);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(LOOPBACK, socket.getLocalPort());
    }

    /** An RTP packet of {@code payloadType} with this sequence number; its timestamp follows from it. */
    void send(int payloadType, int seq, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12 + payload.length);
        b.put((byte) 0x80).put((byte) payloadType).putShort((short) seq).putInt(seq * 160).putInt(ssrc).put(payload);
        socket.send(new DatagramPacket(b.array(), b.position(), vmesh));
    }

    /** G.711 audio of one 20 ms packet, all 160 samples the code word {@code value}. */
    void audio(int payloadType, int seq, int value) throws IOException {
        byte[] samples = new byte[160];
        Arrays.fill(samples, (byte) value);
        send(payloadType, seq, samples);
    }

    /** An RFC 4733 telephone-event packet. */
    void event(int payloadType, int seq, int event, boolean end, int duration) throws IOException {
        send(payloadType, seq, new byte[] {(byte) event, (byte) (end ? 0x80 | 10 : 10), (byte) (duration >> 8), (byte) duration});
    }

    /** The next datagram vmesh sent, or null after {@code timeoutMs}. */
    byte[] receive(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        try {
            socket.receive(p);
        } catch (java.net.SocketTimeoutException e) {
            return null;
        }
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    @Override
    public void close() {
        socket.close();
    }
}
