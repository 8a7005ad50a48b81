package io.vmesh.switches.sip.media;

import io.vmesh.storage.DurableFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import javax.sound.sampled.AudioFormat;

/**
 * A call's recording on disk as it arrives: a G.711 WAV (the header written by javax.sound.sampled)
 * whose samples are appended at least every second and whose sizes are brought up to date on each
 * append, so that a server killed mid-call leaves a playable file short of at most the last second.
 */
final class PartialFile implements AutoCloseable {

    static final int FLUSH_BYTES = 8000; // one second of G.711

    private final Path path;
    private final FileChannel channel;
    private final int dataSizeOffset;
    private final ByteBuffer pending = ByteBuffer.allocate(FLUSH_BYTES);
    private final ByteBuffer size = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    private long samples;
    private long lastFlushNanos = System.nanoTime();

    PartialFile(Path path, AudioFormat format) throws IOException {
        this.path = path;
        byte[] header = io.vmesh.audio.AudioCodec.toWav(new byte[0], format);
        this.dataSizeOffset = dataChunk(header) - 4;
        this.channel = DurableFiles.createPrivateFile(path); // 0600: a caller's voice
        channel.write(ByteBuffer.wrap(header));
    }

    Path path() {
        return path;
    }

    long samples() {
        return samples + pending.position();
    }

    void append(byte[] codeWords, int offset, int length) throws IOException {
        while (length > 0) {
            int n = Math.min(length, pending.remaining());
            pending.put(codeWords, offset, n);
            offset += n;
            length -= n;
            if (!pending.hasRemaining()) {
                flush();
            }
        }
    }

    void appendSilence(byte silence, long count) throws IOException {
        while (count > 0) {
            pending.put(silence);
            count--;
            if (!pending.hasRemaining()) {
                flush();
            }
        }
    }

    /** Flushes when a second has passed since the last flush. */
    void flushIfDue(long nowNanos) throws IOException {
        if (nowNanos - lastFlushNanos >= 1_000_000_000L && channel.isOpen()) {
            flush();
        }
    }

    void flush() throws IOException {
        lastFlushNanos = System.nanoTime();
        if (pending.position() == 0) {
            return;
        }
        pending.flip();
        long end = channel.size();
        while (pending.hasRemaining()) {
            end += channel.write(pending, end);
        }
        pending.clear();
        samples = end - dataSizeOffset - 4;
        putSize(4, end - 8);
        putSize(dataSizeOffset, samples);
    }

    private void putSize(int offset, long value) throws IOException {
        size.clear();
        size.putInt((int) Math.min(value, 0xffffffffL));
        size.flip();
        channel.write(size, offset);
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            try {
                flush();
            } finally {
                channel.close();
            }
        }
    }

    /** The samples after a WAV's "data" chunk header, or an IOException naming what is wrong. */
    static int dataChunk(byte[] wav) throws IOException {
        if (wav.length < 12 || !ascii(wav, 0, "RIFF") || !ascii(wav, 8, "WAVE")) {
            throw new IOException("not a WAV file (no RIFF/WAVE header)");
        }
        int at = 12;
        while (at + 8 <= wav.length) {
            long chunkSize = ByteBuffer.wrap(wav, at + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            if (ascii(wav, at, "data")) {
                return at + 8;
            }
            at += 8 + (int) Math.min(chunkSize + (chunkSize & 1), Integer.MAX_VALUE - at - 8);
        }
        throw new IOException("the WAV file has no data chunk");
    }

    private static boolean ascii(byte[] b, int at, String text) {
        for (int i = 0; i < text.length(); i++) {
            if (b[at + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
