package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Path;
import java.net.Inet6Address;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RTP port pool and the two threads every call's media shares: one selector thread receives all
 * calls' packets (non-blocking UDP sockets), one clock thread sends every call's next packet each
 * 20 ms and looks after gaps, silence, length and the partial files. A call costs a socket and a few
 * kilobytes, not threads. Capacity = the ports of the range / 2 (an even port per call, its odd
 * neighbour left for RTCP, which vmesh does not use).
 *
 * <p>{@link #close()} is a shutdown: calls in progress keep their partial files, as after a crash, for
 * {@link PartialRecordings#recover} at the next start.
 */
public final class MediaSessions implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MediaSessions.class);
    static final long PACKET_NANOS = 20_000_000L;
    /**
     * Each call's socket buffer: what arrives while the receiving thread is held up (a GC pause, a
     * busy machine) waits there. The kernel caps it at net.core.rmem_max (usually 208 KB: a few
     * seconds of one call's packets).
     */
    private static final int RECEIVE_BUFFER = 256 * 1024;

    private final MediaSettings settings;
    private final int firstEvenPort;
    private final int capacity;
    private final MediaSession[] byIndex;
    private int cursor;
    private int active;
    private final Set<MediaSession> sending = ConcurrentHashMap.newKeySet();
    private final Queue<MediaSession> toRegister = new ConcurrentLinkedQueue<>();
    private final Selector selector;
    private final Thread receiver;
    private final ScheduledExecutorService clock;
    private volatile boolean closed;
    private final java.util.concurrent.ExecutorService events = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "vmesh-rtp-ended");
        t.setDaemon(true);
        return t;
    });

    public MediaSessions(MediaSettings settings) {
        this.settings = settings;
        this.firstEvenPort = settings.firstPort() % 2 == 0 ? settings.firstPort() : settings.firstPort() + 1;
        this.capacity = settings.capacity();
        this.byIndex = new MediaSession[capacity];
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("no selector for RTP: " + e.getMessage(), e);
        }
        this.receiver = new Thread(this::receiveLoop, "vmesh-rtp-receiver");
        receiver.setDaemon(true);
        receiver.setPriority(Thread.MAX_PRIORITY);
        receiver.start();
        this.clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vmesh-rtp-clock");
            t.setDaemon(true);
            t.setPriority(Thread.MAX_PRIORITY);
            return t;
        });
        ByteBuffer out = ByteBuffer.allocateDirect(12 + MediaSession.PROMPT_SAMPLES_PER_PACKET);
        clock.scheduleAtFixedRate(() -> tick(out), PACKET_NANOS, PACKET_NANOS, TimeUnit.NANOSECONDS);
    }

    public MediaSettings settings() {
        return settings;
    }

    /**
     * Binds a UDP socket on a free even port of the range for a call whose audio is appended to
     * {@code partialFile} (created; it must not exist) as it arrives.
     *
     * @throws NoMediaPortAvailable when every port of the range is in use (by vmesh or another program)
     */
    public MediaSession open(Path partialFile) throws IOException {
        if (closed) {
            throw new IOException("the RTP port pool is closed");
        }
        synchronized (this) {
            for (int tried = 0; tried < capacity; tried++) {
                int index = (cursor + tried) % capacity;
                if (byIndex[index] != null) {
                    continue;
                }
                int port = firstEvenPort + 2 * index;
                DatagramChannel channel = DatagramChannel.open(settings.bindAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                try {
                    channel.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER);
                    channel.bind(new InetSocketAddress(settings.bindAddress(), port));
                    channel.configureBlocking(false);
                } catch (BindException taken) {
                    channel.close();
                    continue; // another program has it
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                MediaSession session;
                try {
                    session = new MediaSession(this, channel, port, partialFile, settings);
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                byIndex[index] = session;
                cursor = index + 1;
                active++;
                toRegister.add(session);
                selector.wakeup();
                return session;
            }
        }
        throw new NoMediaPortAvailable("all " + capacity + " RTP ports (even ports " + firstEvenPort + "-"
                + (firstEvenPort + 2 * (capacity - 1)) + ") are in use");
    }

    /** Calls whose media is open. */
    public synchronized int active() {
        return active;
    }

    /** Calls the port range can carry at once. */
    public int capacity() {
        return capacity;
    }

    /** Where the sessions' {@code ended()} futures are completed. */
    java.util.concurrent.Executor events() {
        return events;
    }

    void startSending(MediaSession session) {
        sending.add(session);
    }

    synchronized void release(MediaSession session) {
        sending.remove(session);
        int index = (session.localPort() - firstEvenPort) / 2;
        if (index >= 0 && index < capacity && byIndex[index] == session) {
            byIndex[index] = null;
            active--;
        }
    }

    /**
     * Closes a call's socket and waits (briefly) until the selector has let go of it: until then the
     * JDK keeps the socket, and its port, open.
     */
    void closeChannel(DatagramChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closed all the same
        }
        selector.wakeup();
        if (Thread.currentThread() == receiver) {
            return; // the selector lets go of it when this thread is back in its loop
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (channel.isRegistered() && receiver.isAlive() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void tick(ByteBuffer out) {
        long now = System.nanoTime();
        for (MediaSession session : sending) {
            try {
                session.tick(out, now);
            } catch (RuntimeException e) {
                LOG.warn("RTP clock: the call on port {} failed", session.localPort(), e);
            }
        }
    }

    private void receiveLoop() {
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        while (!closed) {
            try {
                selector.select();
                for (MediaSession session; (session = toRegister.poll()) != null; ) {
                    try {
                        session.channel().register(selector, SelectionKey.OP_READ, session);
                    } catch (ClosedChannelException alreadyOver) {
                        // the call ended before its socket was watched
                    }
                }
                var keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    MediaSession session = (MediaSession) key.attachment();
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    try {
                        for (int n = 0; n < 64; n++) { // all that waits, yet fair to the other calls
                            in.clear();
                            SocketAddress from = channel.receive(in);
                            if (from == null) {
                                break;
                            }
                            in.flip();
                            session.receive(in, from, System.nanoTime());
                        }
                    } catch (ClosedChannelException ended) {
                        key.cancel();
                    } catch (IOException e) {
                        LOG.debug("RTP receive on port {}", session.localPort(), e);
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("RTP receiver", e);
                }
            }
        }
    }

    /** Stops all media; calls in progress keep their partial files for recovery at the next start. */
    @Override
    public void close() {
        closed = true;
        clock.shutdownNow();
        events.shutdown();
        MediaSession[] open;
        synchronized (this) {
            open = byIndex.clone();
        }
        for (MediaSession session : open) {
            if (session != null) {
                session.shutDown();
            }
        }
        selector.wakeup();
        try {
            receiver.join(2000);
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
