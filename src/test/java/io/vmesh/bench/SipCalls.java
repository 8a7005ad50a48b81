package io.vmesh.bench;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.ListeningPoint;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipFactory;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.SipStack;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.address.Address;
import javax.sip.address.AddressFactory;
import javax.sip.address.SipURI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ViaHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import gov.nist.javax.sip.SipStackExt;
import gov.nist.javax.sip.clientauthutils.AccountManager;
import gov.nist.javax.sip.clientauthutils.AuthenticationHelper;
import gov.nist.javax.sip.clientauthutils.UserCredentials;

/**
 * Concurrent SIP voicemail calls into one vmesh server (hq, a process of its own): a JAIN-SIP UAC in
 * this JVM plays the PBX. Each call: INVITE for its own extension with a Diversion header, the digest
 * challenge answered with hq-sw1's credentials, ACK; the caller's G.711 (a tone of its own) paced at
 * 20 ms once the prompt is over, then '#'; vmesh records, stores the message and hangs up (BYE).
 * Checked: every call answered and hung up by vmesh, and the message in its mailbox holds exactly the
 * audio the caller sent (a missing or late packet would show as a different frame).
 */
final class SipCalls extends CallBench implements SipListener {

    /** The bench's greeting: one second, so that the callers' talk is most of the call. */
    static final Duration GREETING = Duration.ofSeconds(1);
    /** Greeting, 0.2 s gap and 0.4 s tone (io.vmesh.switches.sip.Prompt), in 20 ms packets. */
    static final int PROMPT_PACKETS = (int) (GREETING.toMillis() + 600) / 20;
    /** The caller starts talking this long after the tone ended, as it heard it. */
    static final Duration TALK_AFTER = Duration.ofMillis(300);

    private SipStack stack;
    private SipProvider provider;
    private HeaderFactory headers;
    private AddressFactory addresses;
    private MessageFactory messages;
    private AuthenticationHelper auth;
    private int localPort;
    private String target;
    private final Map<String, Call> calls = new ConcurrentHashMap<>();
    private final AtomicInteger refused = new AtomicInteger();

    SipCalls(Path dir, boolean quick) {
        super(dir, quick, "bench.sipCalls", "32", "254,500");
    }

    public static void main(String[] args) throws Exception {
        runAlone(new SipCalls(benchDir("sip-calls"), Boolean.getBoolean("bench.quick")));
    }

    @Override
    String name() {
        return "SIP calls";
    }

    @Override
    String header() {
        return String.format(Locale.ROOT, "%-6s | %-8s | %-8s | %-10s | %-30s | %-9s | %s", "calls", "answered", "stored",
                "complete", "packets / before the tone / lost", "loss", "hq CPU (of one core) / heap after GC");
    }

    @Override
    String footer() {
        return "(real SIP: INVITE with Diversion, digest, SDP, ACK; " + GREETING.toSeconds() + " s greeting and tone, "
                + talkSeconds + " s of the caller from when it heard the tone end, '#', vmesh's BYE once the message is stored; hq is its own JVM ("
                + String.join(" ", Sut.JVM_OPTIONS) + "), the UAC and its RTP run in the bench JVM, on the same "
                + Runtime.getRuntime().availableProcessors() + " cores)";
    }

    @Override
    String level(int n) throws Exception {
        Path root = dir.resolve(String.valueOf(n));
        Files.createDirectories(root);
        Path greeting = root.resolve("greeting.wav");
        Files.write(greeting, wav(ConcurrentCalls.tone(GREETING, 600)));
        String overrides = "vmesh.sip.greeting = " + greeting + "\n"
                + "vmesh.sip.rtp-first-port = 30000\nvmesh.sip.rtp-last-port = " + (30000 + 2 * n + 199) + "\n";
        VmeshSut sut = new VmeshSut(root, overrides);
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "caller-rtp");
            t.setDaemon(true);
            return t;
        });
        try {
            sut.start("hq");
            target = sut.sipAddress("hq");
            startStack();
            calls.clear();
            refused.set(0);
            List<Call> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                all.add(new Call(1000 + i));
            }
            long cpu0 = (long) Sut.cpuMillis(sut.pid("hq"));
            long wall0 = System.nanoTime();
            for (Call c : all) {
                clock.schedule(() -> c.invite(), ThreadLocalRandom.current().nextLong(2_000_000_000L), TimeUnit.NANOSECONDS);
            }
            clock.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                for (Call c : all) {
                    c.tick(now);
                }
            }, 20, 20, TimeUnit.MILLISECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(talkSeconds + 60);
            while (System.nanoTime() < deadline && all.stream().anyMatch(c -> !c.over)) {
                Thread.sleep(200);
            }
            long wall1 = System.nanoTime();
            long cpu1 = (long) Sut.cpuMillis(sut.pid("hq"));
            double heap = Sut.heapMbAfterGc(sut.pid("hq"));
            int answered = 0;
            int stored = 0;
            int complete = 0;
            long packets = 0;
            long missing = 0;
            long early = 0;
            for (Call c : all) {
                answered += c.answered ? 1 : 0;
                packets += c.sent;
                byte[] recorded = stored(sut.mailboxes("hq").resolve(String.valueOf(c.extension)));
                if (recorded != null) {
                    stored++;
                    int offset = offset(recorded, c.voice);
                    long bad = offset < 0 ? c.sent : missingFrames(recorded, c.voice, offset);
                    missing += bad;
                    early += Math.max(0, offset);
                    if (bad == 0 && offset == 0) {
                        complete++;
                    } else if (stored - complete <= 5) {
                        Benchmark.log("SIP call to " + c.extension + ": " + (offset < 0 ? "no frame of the caller's recognised"
                                : offset + " frames before the recording began, " + bad + " of the rest lost"));
                    }
                } else {
                    missing += c.sent;
                    Benchmark.log("SIP call to " + c.extension + ": no message (answered " + c.answered + ", over " + c.over + ")");
                }
            }
            double seconds = (wall1 - wall0) / 1e9;
            return String.format(Locale.ROOT, "%-6d | %-8d | %-8d | %-10s | %-30s | %-9s | %.0f%% / %.0f MB%s", n, answered, stored,
                    complete + "/" + n, packets + " / " + early + " / " + missing,
                    String.format(Locale.ROOT, "%.3f%%", 100.0 * missing / Math.max(1, packets)),
                    100.0 * (cpu1 - cpu0) / 1000 / seconds, heap, refused.get() > 0 ? " (" + refused.get() + " refused 503)" : "");
        } finally {
            clock.shutdownNow();
            stopStack();
            sut.close();
            try (Stream<Path> logs = Files.list(root)) { // kept after the bench's directory is deleted
                for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                    Files.copy(log, dir.getParent().getParent().resolve("sip-calls-" + n + "-" + log.getFileName()),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** The mu-law samples of the one message in an extension's mailbox, or null. */
    static byte[] stored(Path mailbox) throws Exception {
        if (!Files.isDirectory(mailbox)) {
            return null;
        }
        try (Stream<Path> files = Files.list(mailbox)) {
            Path wav = files.filter(p -> p.toString().endsWith(".wav")).findFirst().orElse(null);
            return wav == null ? null : ConcurrentCalls.samples(Files.readAllBytes(wav));
        }
    }

    /** Which of the caller's frames the recording begins with (frames spoken before it began), or -1. */
    static int offset(byte[] recorded, byte[] sent) {
        for (int f = 0; f < sent.length / PACKET && recorded.length >= PACKET; f++) {
            if (Arrays.equals(recorded, 0, PACKET, sent, f * PACKET, f * PACKET + PACKET)) {
                return f;
            }
        }
        return -1;
    }

    /** Frames of what the caller said after the recording began that it does not hold as sent. */
    static long missingFrames(byte[] recorded, byte[] sent, int offset) {
        long bad = 0;
        for (int f = offset; f < sent.length / PACKET; f++) {
            int at = (f - offset) * PACKET;
            if (recorded.length < at + PACKET || !Arrays.equals(recorded, at, at + PACKET, sent, f * PACKET, f * PACKET + PACKET)) {
                bad++;
            }
        }
        return bad;
    }

    static byte[] wav(byte[] pcm16) throws Exception {
        javax.sound.sampled.AudioFormat pcm = new javax.sound.sampled.AudioFormat(8000f, 16, 1, true, false);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (javax.sound.sampled.AudioInputStream in = new javax.sound.sampled.AudioInputStream(new ByteArrayInputStream(pcm16), pcm, pcm16.length / 2)) {
            javax.sound.sampled.AudioSystem.write(in, javax.sound.sampled.AudioFileFormat.Type.WAVE, out);
        }
        return out.toByteArray();
    }

    // ---- the UAC ----

    private void startStack() throws Exception {
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        Properties p = new Properties();
        p.setProperty("javax.sip.STACK_NAME", "bench-uac-" + System.nanoTime());
        p.setProperty("gov.nist.javax.sip.THREAD_POOL_SIZE", "4");
        p.setProperty("gov.nist.javax.sip.REENTRANT_LISTENER", "true");
        p.setProperty("gov.nist.javax.sip.TRACE_LEVEL", "0");
        p.setProperty("gov.nist.javax.sip.STACK_LOGGER", io.vmesh.switches.sip.SipStackLog.class.getName());
        p.setProperty("gov.nist.javax.sip.SERVER_LOGGER", io.vmesh.switches.sip.SipMessageLog.class.getName());
        stack = factory.createSipStack(p);
        headers = factory.createHeaderFactory();
        addresses = factory.createAddressFactory();
        messages = factory.createMessageFactory();
        localPort = io.vmesh.TestTopology.freePort();
        ListeningPoint lp = stack.createListeningPoint("127.0.0.1", localPort, ListeningPoint.UDP);
        provider = stack.createSipProvider(lp);
        provider.addSipListener(this);
        AccountManager accounts = (challenged, realm) -> new UserCredentials() {
            public String getUserName() {
                return "hq-sw1";
            }

            public String getPassword() {
                return "demo-hq-sw1";
            }

            public String getSipDomain() {
                return realm;
            }
        };
        auth = ((SipStackExt) stack).getAuthenticationHelper(accounts, headers);
    }

    private void stopStack() {
        if (stack != null) {
            stack.stop();
            stack = null;
        }
    }

    @Override
    public void processResponse(ResponseEvent event) {
        Response response = event.getResponse();
        String callId = ((CallIdHeader) response.getHeader(CallIdHeader.NAME)).getCallId();
        Call call = calls.get(callId);
        CSeqHeader cseq = (CSeqHeader) response.getHeader(CSeqHeader.NAME);
        if (call == null || !Request.INVITE.equals(cseq.getMethod())) {
            return;
        }
        try {
            int status = response.getStatusCode();
            if (status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED) {
                auth.handleChallenge(response, event.getClientTransaction(), provider, 5).sendRequest();
            } else if (status == Response.OK) {
                Dialog dialog = event.getDialog();
                dialog.sendAck(dialog.createAck(cseq.getSeqNumber()));
                call.answer(new String(response.getRawContent(), StandardCharsets.US_ASCII));
            } else if (status >= 300) {
                if (status == Response.SERVICE_UNAVAILABLE) {
                    refused.incrementAndGet();
                }
                Benchmark.log("SIP call to " + call.extension + ": " + status + " " + response.getReasonPhrase());
                call.over = true;
            }
        } catch (Exception e) {
            Benchmark.log("SIP call to " + call.extension + ": " + e);
            call.over = true;
        }
    }

    @Override
    public void processRequest(RequestEvent event) {
        Request request = event.getRequest();
        try {
            ServerTransaction st = event.getServerTransaction() != null ? event.getServerTransaction()
                    : provider.getNewServerTransaction(request);
            st.sendResponse(messages.createResponse(Response.OK, request));
            if (Request.BYE.equals(request.getMethod())) {
                Call call = calls.get(((CallIdHeader) request.getHeader(CallIdHeader.NAME)).getCallId());
                if (call != null) {
                    call.over = true;
                }
            }
        } catch (Exception e) {
            Benchmark.log("SIP request " + request.getMethod() + ": " + e);
        }
    }

    @Override
    public void processTimeout(TimeoutEvent event) {
        Benchmark.log("SIP timeout: " + event.getClientTransaction());
    }

    @Override
    public void processIOException(IOExceptionEvent event) {
    }

    @Override
    public void processTransactionTerminated(TransactionTerminatedEvent event) {
    }

    @Override
    public void processDialogTerminated(DialogTerminatedEvent event) {
    }

    private static final Pattern MEDIA = Pattern.compile("m=audio (\\d+)");
    private static final Pattern CONNECTION = Pattern.compile("c=IN IP4 (\\S+)");

    /** One caller: its extension, its RTP socket and its tone. */
    final class Call {
        final int extension;
        final DatagramChannel rtp;
        final byte[] voice;
        final int packets = talkSeconds * 50;
        final ByteBuffer out = ByteBuffer.allocate(12 + PACKET);
        final int ssrc = ThreadLocalRandom.current().nextInt();
        volatile InetSocketAddress vmesh;
        volatile long talkFrom = Long.MAX_VALUE;
        final ByteBuffer in = ByteBuffer.allocate(2048);
        int firstHeard = -1;
        volatile boolean answered;
        volatile boolean over;
        int next;
        int seq = ThreadLocalRandom.current().nextInt(65536);
        long sent;

        Call(int extension) throws Exception {
            this.extension = extension;
            this.rtp = DatagramChannel.open();
            rtp.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 16384); // the prompt is listened to until its end only
            rtp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            rtp.configureBlocking(false);
            this.voice = ConcurrentCalls.ulaw(ConcurrentCalls.tone(Duration.ofSeconds(talkSeconds), 300 + 2 * (extension - 1000)));
        }

        void invite() {
            try {
                int rtpPort = ((InetSocketAddress) rtp.getLocalAddress()).getPort();
                SipURI uri = addresses.createSipURI(String.valueOf(extension), target);
                Address from = addresses.createAddress(addresses.createSipURI("0301234" + extension, "127.0.0.1"));
                Address to = addresses.createAddress(addresses.createSipURI(String.valueOf(extension), "127.0.0.1"));
                CallIdHeader callId = provider.getNewCallId();
                List<ViaHeader> via = new ArrayList<>(List.of(headers.createViaHeader("127.0.0.1", localPort, "udp", null)));
                Request invite = messages.createRequest(uri, Request.INVITE, callId, headers.createCSeqHeader(1L, Request.INVITE),
                        headers.createFromHeader(from, Long.toHexString(System.nanoTime())), headers.createToHeader(to, null), via,
                        headers.createMaxForwardsHeader(70));
                invite.addHeader(headers.createContactHeader(addresses.createAddress("sip:pbx@127.0.0.1:" + localPort)));
                invite.addHeader(headers.createHeader("Diversion", "<sip:" + extension + "@pbx.example>;reason=no-answer"));
                String sdp = "v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        + "m=audio " + rtpPort + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                        + "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";
                invite.setContent(sdp, headers.createContentTypeHeader("application", "sdp"));
                calls.put(callId.getCallId(), this);
                ClientTransaction ct = provider.getNewClientTransaction(invite);
                ct.sendRequest();
            } catch (Exception e) {
                Benchmark.log("SIP call to " + extension + ": INVITE not sent: " + e);
                over = true;
            }
        }

        void answer(String sdp) {
            Matcher m = MEDIA.matcher(sdp);
            Matcher c = CONNECTION.matcher(sdp);
            if (!m.find() || !c.find()) {
                Benchmark.log("SIP call to " + extension + ": no audio in the answer");
                over = true;
                return;
            }
            vmesh = new InetSocketAddress(c.group(1), Integer.parseInt(m.group(1)));
            answered = true;
        }

        /** Listens to vmesh until the prompt's last packet (by its sequence number) has come. */
        private void listen(long now) {
            try {
                while (talkFrom == Long.MAX_VALUE) {
                    in.clear();
                    if (rtp.receive(in) == null) {
                        return;
                    }
                    int seq = in.getShort(2) & 0xffff;
                    if (firstHeard < 0) {
                        firstHeard = seq;
                    }
                    if (((seq - firstHeard) & 0xffff) >= PROMPT_PACKETS - 1) {
                        talkFrom = now + TALK_AFTER.toNanos();
                    }
                }
            } catch (java.io.IOException e) {
                // nothing heard
            }
        }

        void tick(long now) {
            if (vmesh == null || over) {
                return;
            }
            listen(now);
            if (now < talkFrom) {
                return;
            }
            long due = Math.min(packets + 4, (now - talkFrom) / 20_000_000L + 1);
            while (next < due) {
                rtpPacket(out, voice, packets, next, seq, ssrc);
                try {
                    if (rtp.send(out, vmesh) > 0 && next < packets) {
                        sent++;
                    }
                } catch (java.io.IOException e) {
                    // not sent: counted as missing below
                }
                next++;
                seq = (seq + 1) & 0xffff;
            }
        }
    }
}
