package io.vmesh.bench;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

import io.vmesh.Audio;
import io.vmesh.TestTopology;

/**
 * The classic peer of vmesh's drain (issue 16): voicemail moved between sites as e-mail, by two Postfix
 * instances on loopback. The sender relays the test domain to the receiver over 127.0.0.1; the receiver
 * delivers each message to a Maildir (virtual agent), one file per message. Each instance has its own
 * config, queue and data directories under the benchmark's directory and runs as {@code postfix -c DIR}.
 * Postfix's defaults are kept (its fsyncs included) except: retries every 1-5 s and a queue run every 1 s
 * (vmesh probes an away home once a second), 16 deliveries at once per destination (vmesh's 16 consumers),
 * raised size and connection limits, loopback only, no DNS.
 * <p>
 * Needs root and Debian's {@code postfix} package, which it installs ("No configuration", so no system
 * instance is set up or started) when missing; {@link #unavailable()} says why it cannot run otherwise.
 */
final class PostfixSut implements AutoCloseable {

    static final String DOMAIN = "vm.test";
    private static final String POSTFIX = "/usr/sbin/postfix";
    /** Submitting connections to the sender's smtpd, like the benchmark's parallel switch clients. */
    private static final int SUBMITTERS = 4;

    private final Path root;
    private final Path sender;
    private final Path receiver;
    private final int senderPort;
    private final int receiverPort;
    private final Map<Path, Boolean> running = new LinkedHashMap<>();
    private final Thread cleanup = new Thread(this::stopQuietly, "postfix-cleanup");
    private final Map<Integer, byte[]> recordings = new LinkedHashMap<>();

    PostfixSut(Path root) throws Exception {
        this.root = Sut.separateSites(root); // sender and receiver apart, as vmesh's sites
        this.sender = Sut.siteDirectory(root, "sender");
        this.receiver = Sut.siteDirectory(root, "receiver");
        this.senderPort = TestTopology.freePort();
        this.receiverPort = TestTopology.freePort();
    }

    /**
     * Null when Postfix can run here (installing Debian's package first when it is missing), else why not:
     * the benchmark then prints "skipped: ..." for its rows.
     */
    static String unavailable() {
        try {
            if (!"0".equals(Sut.run("id", "-u").trim())) {
                return "not root (Postfix needs root to start its instances)";
            }
            if (!Files.isExecutable(Path.of(POSTFIX))) {
                Benchmark.log("postfix: installing Debian's postfix package (No configuration)");
                String out = shell("echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
                        + " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix");
                if (!Files.isExecutable(Path.of(POSTFIX))) {
                    return "apt-get install postfix failed: " + tail(out);
                }
            }
            return null;
        } catch (Exception e) {
            return "cannot check or install Postfix: " + e;
        }
    }

    /** Writes both instances' configuration and starts the sender; the receiver stays down until a drain. */
    void start() throws Exception {
        Runtime.getRuntime().addShutdownHook(cleanup); // no Postfix left running, even on Ctrl-C
        String postfixUid = Sut.run("id", "-u", "postfix").trim();
        String postfixGid = Sut.run("id", "-g", "postfix").trim();
        configure(sender, "pf-sender", senderPort, String.join("\n",
                "mynetworks = 127.0.0.0/8",
                "relay_domains = " + DOMAIN,
                "transport_maps = inline:{ " + DOMAIN + "=smtp:[127.0.0.1]:" + receiverPort + " }",
                "default_transport = error:only " + DOMAIN + " is delivered in this benchmark",
                "relay_transport = error:only " + DOMAIN + " is delivered in this benchmark",
                "smtp_dns_support_level = disabled",
                "smtp_host_lookup = native",
                "default_destination_concurrency_limit = 16",
                "smtp_destination_concurrency_limit = 16",
                "initial_destination_concurrency = 16",
                "smtp_connection_cache_on_demand = yes"));
        Path maildirs = Files.createDirectories(receiver.resolve("maildirs"));
        StringBuilder users = new StringBuilder();
        for (int ext = 1000; ext < 4000; ext += 1000) {
            for (int i = 0; i < 50; i++) {
                users.append(ext + i).append('@').append(DOMAIN).append(' ').append(ext + i).append("/\n");
            }
        }
        Files.writeString(Files.createDirectories(receiver.resolve("config")).resolve("vmailbox"), users);
        Sut.run("chown", "-R", "postfix:postfix", maildirs.toString());
        configure(receiver, "pf-receiver", receiverPort, String.join("\n",
                "mynetworks = 127.0.0.0/8",
                "virtual_mailbox_domains = " + DOMAIN,
                "virtual_mailbox_base = " + maildirs,
                "virtual_mailbox_maps = texthash:" + receiver.resolve("config/vmailbox"),
                "virtual_uid_maps = static:" + postfixUid,
                "virtual_gid_maps = static:" + postfixGid,
                "virtual_mailbox_limit = 0",
                "virtual_destination_concurrency_limit = 16",
                "default_transport = error:only " + DOMAIN + " is delivered in this benchmark",
                "relay_transport = error:only " + DOMAIN + " is delivered in this benchmark"));
        start(sender);
    }

    private void configure(Path instance, String hostname, int port, String extra) throws Exception {
        Path config = Files.createDirectories(instance.resolve("config"));
        Path queue = Files.createDirectories(instance.resolve("queue"));
        Path data = Files.createDirectories(instance.resolve("data"));
        Sut.run("chown", "root:root", queue.toString());
        Sut.run("chown", "postfix:postfix", data.toString());
        Files.writeString(config.resolve("main.cf"), String.join("\n",
                "# a benchmark instance (io.vmesh.bench.PostfixSut): loopback only, no DNS",
                "compatibility_level = 3.6",
                "queue_directory = " + queue,
                "data_directory = " + data,
                "myhostname = " + hostname + ".vmesh.test",
                "mydomain = vmesh.test",
                "myorigin = $myhostname",
                "mydestination =",
                "inet_interfaces = loopback-only",
                "inet_protocols = ipv4",
                "maillog_file = " + instance.resolve("postfix.log"),
                "maillog_file_prefixes = " + instance,
                "alias_maps =",
                "alias_database =",
                "biff = no",
                "append_dot_mydomain = no",
                "smtputf8_enable = no",
                "message_size_limit = 104857600",
                "mailbox_size_limit = 0",
                "smtpd_client_connection_count_limit = 1000",
                "smtpd_client_connection_rate_limit = 0",
                "smtpd_client_message_rate_limit = 0",
                "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
                "minimal_backoff_time = 1s",
                "maximal_backoff_time = 5s",
                "queue_run_delay = 1s",
                extra, ""));
        // Debian's services, without chroot (the queue directory is not a prepared chroot), smtpd on the free port
        Files.writeString(config.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + port + " inet n - n - - smtpd",
                "pickup    unix  n       -       n       60      1       pickup",
                "cleanup   unix  n       -       n       -       0       cleanup",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "rewrite   unix  -       -       n       -       -       trivial-rewrite",
                "bounce    unix  -       -       n       -       0       bounce",
                "defer     unix  -       -       n       -       0       bounce",
                "trace     unix  -       -       n       -       0       bounce",
                "verify    unix  -       -       n       -       1       verify",
                "flush     unix  n       -       n       1000?   0       flush",
                "proxymap  unix  -       -       n       -       -       proxymap",
                "smtp      unix  -       -       n       -       -       smtp",
                "relay     unix  -       -       n       -       -       smtp",
                "showq     unix  n       -       n       -       -       showq",
                "error     unix  -       -       n       -       -       error",
                "retry     unix  -       -       n       -       -       error",
                "discard   unix  -       -       n       -       -       discard",
                "local     unix  -       n       n       -       -       local",
                "virtual   unix  -       n       n       -       -       virtual",
                "anvil     unix  -       -       n       -       1       anvil",
                "scache    unix  -       -       n       -       1       scache",
                "postlog   unix-dgram n  -       n       -       1       postlogd", ""));
    }

    private void start(Path instance) throws Exception {
        running.put(instance, true);
        String out = Sut.run(POSTFIX, "-c", instance.resolve("config").toString(), "start");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (masterPid(instance) < 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("postfix " + instance.getFileName() + " did not start: " + tail(out));
            }
            Thread.sleep(50);
        }
        int port = instance.equals(sender) ? senderPort : receiverPort;
        while (!listening(port)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("postfix " + instance.getFileName() + " does not listen on " + port);
            }
            Thread.sleep(20);
        }
    }

    private void stop(Path instance) throws Exception {
        if (running.remove(instance) == null) {
            return;
        }
        long master = masterPid(instance);
        Sut.run(POSTFIX, "-c", instance.resolve("config").toString(), "stop");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (master > 0 && ProcessHandle.of(master).isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (master > 0 && ProcessHandle.of(master).isPresent()) { // did not stop: abort, then kill what is left
            Sut.run(POSTFIX, "-c", instance.resolve("config").toString(), "abort");
            Thread.sleep(500);
            for (long pid : children(master)) {
                Sut.run("kill", "-9", String.valueOf(pid));
            }
            Sut.run("kill", "-9", String.valueOf(master));
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The instance's master process, from its pid file, or -1 when it is not running. */
    private long masterPid(Path instance) {
        try {
            long pid = Long.parseLong(Files.readString(instance.resolve("queue/pid/master.pid")).trim());
            return ProcessHandle.of(pid).map(h -> h.info().command().orElse("").endsWith("master")).orElse(false) ? pid : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static List<Long> children(long parent) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                String[] f = stat(p);
                if (f != null && Long.parseLong(f[1]) == parent) {
                    pids.add(Long.valueOf(p.getFileName().toString()));
                }
            }
        }
        return pids;
    }

    private static String[] stat(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null; // gone meanwhile
        }
    }

    /**
     * CPU (user + system, ms) of an instance's processes so far: its master with the children it has reaped
     * (cutime, cstime) and its live children (smtpd, smtp, cleanup, qmgr, virtual, ...), from /proc, as the
     * benchmark measures vmesh's JVMs. A child that exits between two readings moves to its master's counts.
     */
    double cpuMillis(boolean ofReceiver) throws IOException {
        long master = masterPid(ofReceiver ? receiver : sender);
        if (master < 0) {
            return 0;
        }
        long ticks = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                boolean isMaster = p.getFileName().toString().equals(String.valueOf(master));
                String[] f = stat(p);
                if (f != null && (isMaster || Long.parseLong(f[1]) == master)) {
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
                }
            }
        }
        return ticks * 1000.0 / 100; // USER_HZ
    }

    /** The recording as vmesh stores and migrates it: G.711 mu-law 8 kHz mono WAV, converted by the JDK. */
    private byte[] recording(int seconds) {
        return recordings.computeIfAbsent(seconds, s -> {
            byte[] pcm = Audio.wav(Audio.format(AudioFormat.Encoding.PCM_SIGNED, 8000f, 16, 1), s);
            try (AudioInputStream in = AudioSystem.getAudioInputStream(new ByteArrayInputStream(pcm))) {
                AudioInputStream ulaw = AudioSystem.getAudioInputStream(Audio.format(AudioFormat.Encoding.ULAW, 8000f, 8, 1), in);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                AudioSystem.write(ulaw, AudioFileFormat.Type.WAVE, out);
                return out.toByteArray();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * Submits {@code count} voicemails to the sender over SMTP ({@link #SUBMITTERS} connections), each an
     * e-mail with its recording as a base64 WAV attachment, for mailboxes {@code firstExtension + i % 50}.
     * Returns once every one is accepted (250: in the sender's queue, fsync'd). Returns the bytes per message.
     */
    int submit(int count, int firstExtension, int seconds) throws Exception {
        byte[] audio = recording(seconds);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger size = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(SUBMITTERS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < SUBMITTERS; t++) {
                done.add(pool.submit(() -> {
                    try (Smtp smtp = new Smtp(senderPort)) {
                        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                            byte[] mail = mail(audio, i, firstExtension + i % 50, seconds);
                            size.set(mail.length);
                            smtp.send("voicemail@hq.vmesh.test", (firstExtension + i % 50) + "@" + DOMAIN, mail);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return size.get();
    }

    private static final AtomicInteger MESSAGE_IDS = new AtomicInteger();

    /** A voicemail as a classic system e-mails it: a short text part and the recording as audio/wav, base64. */
    private static byte[] mail(byte[] audio, int i, int extension, int seconds) {
        byte[] unique = audio.clone();
        int n = MESSAGE_IDS.incrementAndGet();
        for (int k = 0; k < 8; k++) { // every recording differs, as in the vmesh rows
            unique[unique.length - 1 - k] = (byte) (n >> (4 * k));
        }
        String boundary = "vm-" + n;
        String headers = String.join("\r\n",
                "From: Voicemail <voicemail@hq.vmesh.test>",
                "To: <" + extension + "@" + DOMAIN + ">",
                "Subject: Voicemail from +15550100" + (i % 100) + " (" + seconds + " s)",
                "Message-ID: <" + n + "." + ProcessHandle.current().pid() + "@hq.vmesh.test>",
                "Date: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now()),
                "MIME-Version: 1.0",
                "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"",
                "",
                "--" + boundary,
                "Content-Type: text/plain; charset=us-ascii",
                "",
                "You have a new voicemail of " + seconds + " s.",
                "--" + boundary,
                "Content-Type: audio/wav; name=\"msg" + n + ".wav\"",
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment; filename=\"msg" + n + ".wav\"",
                "", "");
        byte[] body = Base64.getMimeEncoder().encode(unique);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] head = headers.getBytes(StandardCharsets.US_ASCII);
        byte[] mail = new byte[head.length + body.length + tail.length];
        System.arraycopy(head, 0, mail, 0, head.length);
        System.arraycopy(body, 0, mail, head.length, body.length);
        System.arraycopy(tail, 0, mail, head.length + body.length, tail.length);
        return mail;
    }

    /** Messages in the sender's queue (all its queues). */
    int queued() throws IOException {
        int n = 0;
        for (String q : new String[] {"maildrop", "incoming", "active", "deferred", "hold"}) {
            Path dir = sender.resolve("queue").resolve(q);
            if (Files.isDirectory(dir)) {
                try (var walk = Files.walk(dir)) {
                    n += (int) walk.filter(Files::isRegularFile).count();
                }
            }
        }
        return n;
    }

    String version() throws Exception {
        return "Postfix " + Sut.run("/usr/sbin/postconf", "-d", "-h", "mail_version").trim();
    }

    /** Waits until the sender's queue is empty (delivered messages leave it shortly after their 250); returns what is left. */
    int awaitEmptyQueue(int timeoutS) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        int left = queued();
        while (left > 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            left = queued();
        }
        return left;
    }

    void stopReceiver() throws Exception {
        stop(receiver);
    }

    /** Starts the receiver; returns once it listens. */
    void startReceiver() throws Exception {
        start(receiver);
    }

    /** {@code postqueue -f}: the sender forgets the receiver was dead and sends everything it holds now. */
    void flush() throws Exception {
        String out = Sut.run("/usr/sbin/postqueue", "-c", sender.resolve("config").toString(), "-f");
        if (!out.isBlank()) {
            Benchmark.log("postfix: postqueue -f: " + out.trim());
        }
    }

    Path maildirs() {
        return receiver.resolve("maildirs");
    }

    /** Delivered messages' files (Maildir {@code new/}) not yet in {@code seen}, added to it with their mtime (ms). */
    int collectDelivered(Map<Path, Long> seen) throws IOException {
        int added = 0;
        try (DirectoryStream<Path> boxes = Files.newDirectoryStream(maildirs())) {
            for (Path box : boxes) {
                Path fresh = box.resolve("new");
                if (!Files.isDirectory(fresh)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(fresh)) {
                    for (Path f : files) {
                        if (!seen.containsKey(f)) {
                            FileTime t = Files.getLastModifiedTime(f);
                            seen.put(f, t.toMillis());
                            added++;
                        }
                    }
                }
            }
        }
        return added;
    }

    /** Empties the Maildirs between rows, as the benchmark cleans vmesh's mailboxes: moved aside, not deleted. */
    void cleanMaildirs(Iterable<Path> files) throws IOException {
        Path counted = root.resolve("counted");
        Files.createDirectories(counted);
        for (Path f : files) {
            if (Files.exists(f)) {
                Files.move(f, counted.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    String log(boolean ofReceiver) {
        try {
            return tail(Files.readString((ofReceiver ? receiver : sender).resolve("postfix.log")));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** Stops both instances and deletes their directories (queues, Maildirs, logs), whatever happened before. */
    @Override
    public void close() throws Exception {
        stopQuietly();
        Benchmark.deleteTree(root);
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // shutting down already, or never started
        }
    }

    private void stopQuietly() {
        for (Path instance : List.of(sender, receiver)) {
            try {
                stop(instance);
            } catch (Exception e) {
                System.err.println("postfix " + instance.getFileName() + " did not stop: " + e);
            }
        }
    }

    private static String shell(String command) throws Exception {
        return Sut.run("sh", "-c", command);
    }

    private static String tail(String out) {
        String[] lines = out.strip().split("\n");
        return String.join(" | ", List.of(lines).subList(Math.max(0, lines.length - 5), lines.length));
    }

    /** A minimal SMTP client for submission: one connection, many transactions, no pipelining. */
    private static final class Smtp implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Smtp(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(120_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
            expect("220");
            command("EHLO hq.vmesh.test", "250");
        }

        void send(String from, String to, byte[] mail) throws IOException {
            command("MAIL FROM:<" + from + "> SIZE=" + mail.length, "250");
            command("RCPT TO:<" + to + ">", "250");
            command("DATA", "354");
            out.write(mail); // base64 and headers: no line starts with '.'
            command(".", "250"); // the mail ends with CRLF
        }

        private void command(String line, String code) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expect(code);
        }

        private void expect(String code) throws IOException {
            String line;
            do {
                line = in.readLine();
                if (line == null) {
                    throw new IOException("SMTP: connection closed, expected " + code);
                }
            } while (line.length() > 3 && line.charAt(3) == '-');
            if (!line.startsWith(code)) {
                throw new IOException(String.format(Locale.ROOT, "SMTP: expected %s, got %s", code, line));
            }
        }

        @Override
        public void close() throws IOException {
            try {
                command("QUIT", "221");
            } finally {
                socket.close();
            }
        }
    }
}
