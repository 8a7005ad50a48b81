package io.vmesh.bench;

import io.vmesh.Vmesh;
import io.vmesh.audio.AudioCodec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The raw-JDK baseline of the benchmark: one site server with nothing in the way of the durable
 * work. JDK HTTP server and client, the same javax.sound.sampled mu-law encoding as AudioCodec, each
 * file written to a temporary name, FileChannel.force'd and renamed, the directory fsync'd. No
 * Camel, no broker: a message for another home waits in the spool and on an in-memory queue served
 * by a forwarder pool per home, which POSTs it to the home's raw server, and deletes the spool copy
 * (fsync'ing the spool) once the home answered 201 after storing it durably.
 *
 * <p>Run as its own JVM: {@code RawBaseline --site=hq --port=N --data=DIR --peer=east=http://... --forwarders=4}.
 * The directory is the shipped topology's shape: 1000-1999 hq, 2000-2999 east, 3000-3999 west.
 */
public final class RawBaseline {

    static final AudioFormat STORED = new AudioFormat(AudioFormat.Encoding.ULAW, 8000f, 8, 1, 1, 8000f, false);

    private final String site;
    private final Path spool;
    private final Path mailboxes;
    private final Map<String, String> peers;
    private final Map<String, LinkedBlockingQueue<String>> queues = new HashMap<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    RawBaseline(String site, Path data, Map<String, String> peers) throws IOException {
        this.site = site;
        this.spool = Files.createDirectories(data.resolve("spool"));
        this.mailboxes = Files.createDirectories(data.resolve("mailboxes"));
        this.peers = peers;
    }

    public static void main(String[] args) throws Exception {
        String site = null;
        int port = 0;
        int forwarders = 4;
        Path data = null;
        Map<String, String> peers = new HashMap<>();
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--site=")) {
                site = v;
            } else if (a.startsWith("--port=")) {
                port = Integer.parseInt(v);
            } else if (a.startsWith("--data=")) {
                data = Path.of(v);
            } else if (a.startsWith("--forwarders=")) {
                forwarders = Integer.parseInt(v);
            } else if (a.startsWith("--peer=")) {
                peers.put(v.substring(0, v.indexOf('=')), v.substring(v.indexOf('=') + 1));
            }
        }
        new RawBaseline(site, data, peers).start(port, forwarders);
    }

    void start(int port, int forwarders) throws IOException {
        for (Map.Entry<String, String> peer : peers.entrySet()) {
            LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
            queues.put(peer.getKey(), queue);
            for (int i = 0; i < forwarders; i++) {
                Thread t = new Thread(() -> forward(peer.getValue(), queue), "forward-" + peer.getKey() + "-" + i);
                t.setDaemon(true);
                t.start();
            }
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 256);
        server.setExecutor(Executors.newFixedThreadPool(32));
        server.createContext("/health", ex -> answer(ex, 200, "{\"status\":\"UP\"}"));
        server.createContext("/switch/", this::call);
        server.createContext("/peer/voicemail", this::peer);
        server.start();
    }

    static String homeOf(String extension) {
        int ext = Integer.parseInt(extension);
        return ext < 2000 ? "hq" : ext < 3000 ? "east" : "west";
    }

    private void call(HttpExchange ex) throws IOException {
        try (ex) {
            String switchId = ex.getRequestURI().getPath().split("/")[2];
            if (!("Bearer demo-" + switchId).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                answer(ex, 401, "{\"error\":\"bad token\"}");
                return;
            }
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            byte[] body = ex.getRequestBody().readAllBytes();
            byte[] wav = encode(body);
            String id = site + "-" + UUID.randomUUID();
            String to = q.get("to");
            String home = homeOf(to);
            String sha = sha256(wav);
            String json = "{\"id\":\"" + id + "\",\"callId\":\"" + q.get("callId") + "\",\"from\":\"" + q.get("from")
                    + "\",\"extension\":\"" + to + "\",\"switchId\":\"" + switchId + "\",\"recordedBy\":\"" + site
                    + "\",\"receivedAt\":\"" + Instant.now() + "\",\"durationMs\":" + (wav.length - 46) / 8
                    + ",\"sourceEncoding\":\"PCM_16\",\"sha256\":\"" + sha + "\",\"heard\":false}";
            String delivery;
            if (home.equals(site)) {
                storeDurably(Files.createDirectories(mailboxes.resolve(to)), id, wav, json);
                delivery = "LOCAL";
            } else {
                storeDurably(spool, id, wav, json);
                queues.get(home).add(id + " " + to);
                delivery = "QUEUED";
            }
            answer(ex, 201, "{\"callId\":\"" + q.get("callId") + "\",\"disposition\":\"VOICEMAIL\",\"messageId\":\""
                    + id + "\",\"home\":\"" + home + "\",\"delivery\":\"" + delivery + "\"}");
        } catch (Exception e) {
            answer(ex, 503, "{\"error\":\"" + e + "\"}");
        }
    }

    private void peer(HttpExchange ex) throws IOException {
        try (ex) {
            String id = ex.getRequestHeaders().getFirst("X-Vmesh-Message-Id");
            String ext = ex.getRequestHeaders().getFirst("X-Vmesh-Extension");
            String sha = ex.getRequestHeaders().getFirst("X-Vmesh-Sha256");
            String json = ex.getRequestHeaders().getFirst("X-Vmesh-Metadata");
            byte[] wav = ex.getRequestBody().readAllBytes();
            if (!sha256(wav).equals(sha)) {
                answer(ex, 422, "{\"error\":\"checksum\"}");
                return;
            }
            Path box = Files.createDirectories(mailboxes.resolve(ext));
            if (!Files.exists(box.resolve(id + ".json"))) { // once per message id
                storeDurably(box, id, wav, json);
            }
            answer(ex, 201, "{\"messageId\":\"" + id + "\",\"stored\":true}");
        } catch (Exception e) {
            answer(ex, 503, "{\"error\":\"" + e + "\"}");
        }
    }

    /** One forwarder thread: each queued message is POSTed to its home until it answers 201, then the spool copy goes. */
    private void forward(String homeUrl, LinkedBlockingQueue<String> queue) {
        while (true) {
            String[] entry;
            try {
                entry = queue.take().split(" ");
            } catch (InterruptedException e) {
                return;
            }
            String id = entry[0];
            long backoff = 250;
            while (true) {
                try {
                    byte[] wav = Files.readAllBytes(spool.resolve(id + ".wav"));
                    String json = Files.readString(spool.resolve(id + ".json"));
                    HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(homeUrl + "/peer/voicemail"))
                            .timeout(Duration.ofSeconds(30))
                            .header("X-Vmesh-Message-Id", id).header("X-Vmesh-Extension", entry[1])
                            .header("X-Vmesh-Sha256", sha256(wav)).header("X-Vmesh-Metadata", json)
                            .header("Content-Type", "audio/wav")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(wav)).build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 201) {
                        Files.deleteIfExists(spool.resolve(id + ".json"));
                        Files.deleteIfExists(spool.resolve(id + ".wav"));
                        fsyncDirectory(spool);
                        break;
                    }
                } catch (IOException e) {
                    // the home is away: try again after the back-off
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(5000, backoff * 2);
            }
        }
    }

    /** The same mu-law encoding as AudioCodec.encodeForStorage, for a PCM 16-bit recording. */
    static byte[] encode(byte[] wav) throws Exception {
        try (AudioInputStream source = AudioSystem.getAudioInputStream(new ByteArrayInputStream(wav))) {
            byte[] samples = AudioSystem.getAudioInputStream(STORED, source).readAllBytes();
            ByteArrayOutputStream out = new ByteArrayOutputStream(samples.length + 64);
            AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(samples), STORED, samples.length),
                    AudioFileFormat.Type.WAVE, out);
            return out.toByteArray();
        }
    }

    /** Audio then metadata, each to a temporary name, forced and renamed; then the directory is fsync'd. */
    static void storeDurably(Path dir, String id, byte[] wav, String json) throws IOException {
        writeForced(dir, id + ".wav", wav);
        writeForced(dir, id + ".json", json.getBytes(StandardCharsets.UTF_8));
        fsyncDirectory(dir);
    }

    private static void writeForced(Path dir, String name, byte[] content) throws IOException {
        Path temp = dir.resolve(".part-" + name);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(temp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw != null) {
            for (String p : raw.split("&")) {
                int eq = p.indexOf('=');
                if (eq > 0) {
                    q.put(p.substring(0, eq), URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return q;
    }

    private static void answer(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
