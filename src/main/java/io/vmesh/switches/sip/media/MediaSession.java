package io.vmesh.switches.sip.media;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * One call's media (RFC 3550 RTP over UDP): plays the prompt to the address negotiated in SDP, paced at
 * 20 ms per packet by {@link MediaSessions}' shared clock, then keeps the call's media alive with
 * silence; records the caller's G.711 from that address only, in sequence-number order through a small
 * jitter buffer (reordering undone, duplicates dropped, what is lost recorded as silence), appending it
 * to the partial file as it arrives. '#' (RFC 4733 event 11), the maximum length or a silence of the
 * configured time end the recording ({@link #ended()}); the signalling side then calls {@link #finish()}.
 *
 * <p>{@code finish()} keeps the partial file, so that the call survives a crash until its message is
 * durable; {@link #close()} then deletes it. {@code close()} without {@code finish()} abandons the call.
 */
public final class MediaSession implements AutoCloseable {

    /** Packets held for reordering; a packet further ahead than this forces the oldest gap out as lost. */
    static final int DEPTH = 16;
    /** How long a gap in the sequence is waited for before it is recorded as silence. */
    static final long GAP_WAIT_NANOS = 80_000_000L;
    /** A sequence jump larger than this (RFC 3550 A.1's MAX_DROPOUT) is a restarted stream, not a loss. */
    static final int MAX_DROPOUT = 3000;
    /** Mean absolute level (of 32768) above which a packet is sound, not silence: about -46 dBFS. */
    static final int SOUND_LEVEL = 160;
    static final int MAX_PAYLOAD = 1024;
    static final int PROMPT_SAMPLES_PER_PACKET = 160;
    /** At most this many packets (200 ms) are sent at once after the clock was held up; older ones are skipped. */
    static final int MAX_BURST = 10;
    static final int COMFORT_NOISE = 13; // RFC 3389: silence the sender did not send

    private static final int EMPTY = 0, AUDIO = 1, SILENT = 2, EVENT = 3, HASH_EVENT = 4;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Map<byte[], byte[][]> ENCODED_PROMPTS = new WeakHashMap<>(); // byte[] keys compare by identity

    private final MediaSessions pool;
    private final DatagramChannel channel;
    private final int localPort;
    private final PartialFile partial;
    private final long maxSamples;
    private final long silenceNanos;
    private final long maxLengthNanos;
    private final CompletableFuture<EndReason> ended = new CompletableFuture<>();

    // set by start(), read by both threads
    private volatile InetSocketAddress remote;
    private volatile G711 law;
    private volatile int eventPayloadType = -1;
    private volatile boolean stopped;

    // sending: the clock thread only
    private byte[] prompt;
    private int promptAt;
    private final int ssrc = RANDOM.nextInt();
    private int sendSeq = RANDOM.nextInt() & 0xffff;
    private int sendTimestamp = RANDOM.nextInt();
    private boolean firstSent;
    private long sendStartNanos;
    private long packetsDue;

    // receiving: guarded by this
    private boolean recording;
    private long recordingStartNanos;
    private long lastSoundNanos;
    private long highest = -1;     // the highest extended sequence number seen
    private long next = -1;        // the extended sequence number to record next
    private long remoteSsrc;
    private boolean primed;        // the jitter buffer has filled enough (or waited enough) to start playing
    private long playedMask;       // bit k: sequence number next-1-k was recorded from a packet
    private int lastPacketSamples = PROMPT_SAMPLES_PER_PACKET;
    private final int[] kind = new int[DEPTH];
    private final long[] slotSeq = new long[DEPTH];
    private final long[] arrival = new long[DEPTH];
    private final byte[][] payload = new byte[DEPTH][];
    private final int[] length = new int[DEPTH];
    private int buffered;
    private long received, lost, duplicates, late, wrongSource, malformed;
    private volatile long sent, sendsDropped, sendsSkipped;

    MediaSession(MediaSessions pool, DatagramChannel channel, int localPort, Path partialFile, MediaSettings settings) throws IOException {
        this.pool = pool;
        this.channel = channel;
        this.localPort = localPort;
        this.partial = new PartialFile(partialFile, G711.Formats.STORED);
        this.maxSamples = settings.maxLength().toMillis() * 8;
        this.maxLengthNanos = settings.maxLength().toNanos();
        this.silenceNanos = settings.silenceTimeout().toNanos();
    }

    /** The even UDP port of the RTP socket, for the SDP answer's {@code m=audio} line. */
    public int localPort() {
        return localPort;
    }

    /** The partial file the recording is appended to. */
    public Path partialFile() {
        return partial.path();
    }

    /**
     * Starts the call's media: the prompt (8 kHz mono signed 16-bit little-endian PCM, greeting then
     * tone) is sent paced at 20 ms per packet to {@code remoteRtp}, and RTP from that address only is
     * recorded once the prompt has been sent. {@code payloadType} is 0 (PCMU) or 8 (PCMA);
     * {@code telephoneEventPayloadType} is -1 when RFC 4733 was not negotiated.
     *
     * @throws IllegalArgumentException for a payload type that is not G.711
     * @throws IllegalStateException    when started twice or after the session ended
     */
    public void start(InetSocketAddress remoteRtp, int payloadType, int telephoneEventPayloadType, byte[] promptPcm16) {
        G711 negotiated = G711.forPayloadType(payloadType);
        if (remoteRtp == null || remoteRtp.isUnresolved() || remoteRtp.getPort() == 0) {
            throw new IllegalArgumentException("the remote RTP address " + remoteRtp + " is not a resolved address and port");
        }
        byte[] encoded = encodedPrompt(promptPcm16 == null ? new byte[0] : promptPcm16, negotiated);
        synchronized (this) {
            if (remote != null || stopped) {
                throw new IllegalStateException("the media session on port " + localPort + " was already started or ended");
            }
            this.law = negotiated;
            this.eventPayloadType = telephoneEventPayloadType;
            this.prompt = encoded;
            this.remote = remoteRtp;
            this.sendStartNanos = System.nanoTime();
            if (encoded.length == 0) {
                startRecording(System.nanoTime());
            }
        }
        pool.startSending(this);
    }

    /**
     * Completes when vmesh ends the recording: '#', the maximum length or silence (exceptionally when
     * the partial file cannot be written). It completes on a thread of its own, never on the media's
     * threads: what follows may block, e.g. call {@link #finish()}.
     */
    public CompletableFuture<EndReason> ended() {
        return ended;
    }

    /** This call's RTP counts so far. */
    public synchronized MediaStatistics statistics() {
        return new MediaStatistics(received, lost, duplicates, late, wrongSource, malformed, sent, sendsDropped, sendsSkipped);
    }

    /**
     * Stops the media and returns what was recorded: what is still in the jitter buffer is recorded,
     * gaps as silence. The partial file stays until {@link #close()}.
     */
    public Recording finish() throws IOException {
        stop();
        synchronized (this) {
            if (recording) {
                while (buffered > 0) {
                    playNext();
                }
                recording = false;
            }
            partial.close();
            long samples = partial.samples();
            byte[] file = Files.readAllBytes(partial.path());
            byte[] samplesOnly = java.util.Arrays.copyOfRange(file, PartialFile.dataChunk(file), file.length);
            return new Recording(io.vmesh.audio.AudioCodec.toWav(samplesOnly, G711.Formats.STORED), Duration.ofMillis(samples / 8),
                    received, lost, wrongSource);
        }
    }

    /** Abandons the call (or releases a finished one): stops the media and deletes the partial file. */
    @Override
    public void close() {
        shutDown();
        synchronized (this) {
            try {
                Files.deleteIfExists(partial.path());
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete the partial recording " + partial.path(), e);
            }
        }
    }

    /** Stops sending and receiving and gives the port back; the partial file stays as it is. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        pool.closeChannel(channel);
        pool.release(this);
    }

    /** Closes the file as a crash would leave it, for a server shutting down mid-call. */
    void shutDown() {
        stop();
        synchronized (this) {
            recording = false;
            try {
                partial.close();
            } catch (IOException e) {
                // what reached the disk is recovered at restart
            }
        }
    }

    DatagramChannel channel() {
        return channel;
    }

    // ---- the clock thread: every 20 ms ----

    /** Sends this call's next packet and looks after gaps, silence, length and the file. */
    void tick(ByteBuffer out, long now) {
        if (stopped) {
            return;
        }
        long due = (now - sendStartNanos) / MediaSessions.PACKET_NANOS + 1;
        if (due - packetsDue > MAX_BURST) { // the clock was held up: catch up a little, let the rest go
            sendsSkipped += due - MAX_BURST - packetsDue;
            packetsDue = due - MAX_BURST;
        }
        for (; packetsDue < due && !stopped; packetsDue++) {
            send(out); // packet k leaves at start + k x 20 ms, never earlier
        }
        synchronized (this) {
            if (!recording) {
                return;
            }
            try {
                if (buffered > 0 && (!primed || kind[slot(next)] == EMPTY) && now - oldestArrival() >= GAP_WAIT_NANOS) {
                    primed = true;
                    while (recording && buffered > 0 && kind[slot(next)] == EMPTY) {
                        playNext();
                    }
                    drain();
                }
                if (recording && now - lastSoundNanos >= silenceNanos) {
                    end(EndReason.SILENCE);
                } else if (recording && now - recordingStartNanos >= maxLengthNanos + 1_000_000_000L) {
                    end(EndReason.MAX_LENGTH); // the caller's packets stopped short of it: the clock's backstop
                }
                partial.flushIfDue(now);
            } catch (IOException e) {
                fail(e);
            }
        }
    }

    private void send(ByteBuffer out) {
        out.clear();
        out.put((byte) 0x80);
        out.put((byte) ((firstSent ? 0 : 0x80) | law.payloadType));
        out.putShort((short) sendSeq);
        out.putInt(sendTimestamp);
        out.putInt(ssrc);
        boolean promptEnds = false;
        if (promptAt < prompt.length) {
            out.put(prompt, promptAt, PROMPT_SAMPLES_PER_PACKET);
            promptAt += PROMPT_SAMPLES_PER_PACKET;
            promptEnds = promptAt >= prompt.length;
        } else {
            byte silence = law.silenceCodeWord();
            for (int i = 0; i < PROMPT_SAMPLES_PER_PACKET; i++) {
                out.put(silence);
            }
        }
        out.flip();
        try {
            if (channel.send(out, remote) == 0) {
                sendsDropped++;
            } else {
                sent++;
            }
        } catch (IOException e) {
            sendsDropped++; // a closed socket (the call ended meanwhile) or an unreachable far end: RTP is best effort
        }
        firstSent = true;
        sendSeq = (sendSeq + 1) & 0xffff;
        sendTimestamp += PROMPT_SAMPLES_PER_PACKET;
        if (promptEnds) {
            synchronized (this) {
                startRecording(System.nanoTime());
            }
        }
    }

    private void startRecording(long now) {
        if (stopped || recording || ended.isDone()) {
            return;
        }
        recording = true;
        recordingStartNanos = now;
        lastSoundNanos = now;
        next = highest < 0 ? -1 : highest + 1; // what arrived during the prompt is not part of the message
        primed = highest >= 0;
    }

    // ---- the receiving thread ----

    /** One datagram from the socket: counted, checked, and put in its place. */
    synchronized void receive(ByteBuffer packet, SocketAddress from, long now) {
        if (stopped) {
            return;
        }
        if (remote == null || !remote.equals(from)) {
            wrongSource++;
            return;
        }
        int size = packet.remaining();
        if (size < 12 || (packet.get(0) & 0xc0) != 0x80) {
            malformed++;
            return;
        }
        int first = packet.get(0) & 0xff;
        int payloadType = packet.get(1) & 0x7f;
        int seq = packet.getShort(2) & 0xffff;
        long ssrcOfPacket = packet.getInt(8) & 0xffffffffL;
        int start = 12 + 4 * (first & 0x0f);
        if ((first & 0x10) != 0) { // header extension
            if (size < start + 4) {
                malformed++;
                return;
            }
            start += 4 + 4 * (packet.getShort(start + 2) & 0xffff);
        }
        int end = size;
        if ((first & 0x20) != 0 && size > 0) { // padding: its count is the last byte
            end -= packet.get(size - 1) & 0xff;
        }
        int payloadLength = end - start;
        int type;
        if (payloadType == law.payloadType) {
            type = AUDIO;
        } else if (payloadType == eventPayloadType && eventPayloadType >= 0) {
            type = payloadLength >= 4 && packet.get(start) == 11 ? HASH_EVENT : EVENT;
        } else if (payloadType == COMFORT_NOISE) {
            type = SILENT;
        } else {
            type = -1;
        }
        if (type < 0 || payloadLength < 0 || payloadLength > MAX_PAYLOAD || (type == AUDIO && payloadLength == 0)) {
            malformed++;
            return;
        }
        long ext;
        if (highest < 0 || ssrcOfPacket != remoteSsrc) {
            ext = restart(seq, ssrcOfPacket);
        } else {
            ext = highest + (short) (seq - (int) (highest & 0xffff));
            if (Math.abs(ext - highest) > MAX_DROPOUT) {
                ext = restart(seq, ssrcOfPacket);
            }
        }
        if (!recording) {
            received++;
            highest = Math.max(highest, ext);
            return;
        }
        try {
            if (next < 0) {
                next = ext;
            }
            if (!primed && ext < next && highest - ext < DEPTH) {
                next = ext; // the first packets came out of order: start from the earliest
            }
            if (ext < next) {
                long behind = next - 1 - ext;
                if (behind < 64 && (playedMask & (1L << behind)) != 0) {
                    duplicates++;
                } else {
                    late++;
                }
                return;
            }
            while (recording && ext >= next + DEPTH) {
                primed = true;
                playNext(); // too far ahead: the oldest gap is given up
            }
            if (!recording) {
                received++;
                return;
            }
            int s = slot(ext);
            if (kind[s] != EMPTY) {
                duplicates++;
                return;
            }
            received++;
            highest = Math.max(highest, ext);
            kind[s] = type;
            slotSeq[s] = ext;
            arrival[s] = now;
            if (type == AUDIO) {
                if (payload[s] == null || payload[s].length < payloadLength) {
                    payload[s] = new byte[Math.max(payloadLength, PROMPT_SAMPLES_PER_PACKET)];
                }
                packet.position(start);
                packet.get(payload[s], 0, payloadLength);
                length[s] = payloadLength;
            }
            buffered++;
            if (buffered >= DEPTH / 2) {
                primed = true;
            }
            drain();
        } catch (IOException e) {
            fail(e);
        }
    }

    /** A new or restarted stream (first packet, new SSRC, or a jump beyond MAX_DROPOUT). */
    private long restart(int seq, long ssrcOfPacket) throws IllegalStateException {
        remoteSsrc = ssrcOfPacket;
        long base = (highest < 0 ? 0 : highest + MAX_DROPOUT * 4L + 65536) & ~0xffffL;
        long ext = base + 65536 + seq;
        if (recording) {
            try {
                while (buffered > 0) {
                    playNext();
                }
            } catch (IOException e) {
                fail(e);
            }
            next = ext;
        }
        highest = ext - 1;
        return ext;
    }

    private void drain() throws IOException {
        while (primed && recording && buffered > 0 && kind[slot(next)] != EMPTY) {
            playNext();
        }
    }

    /** Records the packet at {@code next}, or silence for it when it never came, and moves on. */
    private void playNext() throws IOException {
        int s = slot(next);
        int k = kind[s];
        boolean present = k != EMPTY && slotSeq[s] == next;
        if (!present) {
            lost++;
            appendSilence(lastPacketSamples);
        } else {
            buffered--;
            kind[s] = EMPTY;
            if (k == AUDIO) {
                int n = length[s];
                lastPacketSamples = n;
                if (law.meanLevel(payload[s], 0, n) > SOUND_LEVEL) {
                    lastSoundNanos = Math.max(lastSoundNanos, arrival[s]);
                }
                law.toStored(payload[s], 0, n);
                appendAudio(payload[s], n);
            } else if (k == SILENT) {
                appendSilence(lastPacketSamples);
            } else if (k == HASH_EVENT) {
                end(EndReason.HASH);
            }
        }
        playedMask = (playedMask << 1) | (present ? 1 : 0);
        next++;
    }

    private void appendAudio(byte[] codeWords, int n) throws IOException {
        if (!recording) {
            return;
        }
        long room = maxSamples - partial.samples();
        partial.append(codeWords, 0, (int) Math.min(n, room));
        if (n >= room) {
            end(EndReason.MAX_LENGTH);
        }
    }

    private void appendSilence(long n) throws IOException {
        if (!recording) {
            return;
        }
        long room = maxSamples - partial.samples();
        partial.appendSilence(G711.STORED_SILENCE, Math.min(n, room));
        if (n >= room) {
            end(EndReason.MAX_LENGTH);
        }
    }

    /** Completed on {@link MediaSessions}' event threads: what depends on it never holds up the media. */
    private void end(EndReason reason) {
        recording = false;
        if (!ended.isDone()) {
            completeLater(() -> ended.complete(reason));
        }
    }

    private void fail(IOException e) {
        recording = false;
        UncheckedIOException failure = new UncheckedIOException("the partial recording " + partial.path() + " could not be written", e);
        completeLater(() -> ended.completeExceptionally(failure));
    }

    private void completeLater(Runnable completion) {
        try {
            pool.events().execute(completion);
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            completion.run();
        }
    }

    private long oldestArrival() {
        long oldest = Long.MAX_VALUE;
        for (int i = 0; i < DEPTH; i++) {
            if (kind[i] != EMPTY) {
                oldest = Math.min(oldest, arrival[i]);
            }
        }
        return oldest;
    }

    private static int slot(long ext) {
        return (int) (ext & (DEPTH - 1));
    }

    /** The prompt in the call's law, whole packets (the last padded with silence); encoded once per prompt. */
    private static byte[] encodedPrompt(byte[] pcm16, G711 law) {
        synchronized (ENCODED_PROMPTS) {
            byte[][] byLaw = ENCODED_PROMPTS.computeIfAbsent(pcm16, p -> new byte[G711.values().length][]);
            if (byLaw[law.ordinal()] == null) {
                byte[] encoded = law.encode(pcm16);
                int packets = (encoded.length + PROMPT_SAMPLES_PER_PACKET - 1) / PROMPT_SAMPLES_PER_PACKET;
                byte[] whole = java.util.Arrays.copyOf(encoded, packets * PROMPT_SAMPLES_PER_PACKET);
                java.util.Arrays.fill(whole, encoded.length, whole.length, law.silenceCodeWord());
                byLaw[law.ordinal()] = whole;
            }
            return byLaw[law.ordinal()];
        }
    }
}
