package io.vmesh.switches.sip;

import io.vmesh.RejectedRequest;
import io.vmesh.switches.sip.media.MediaSession;
import io.vmesh.switches.sip.media.MediaSessions;
import io.vmesh.switches.sip.media.NoMediaPortAvailable;
import io.vmesh.switches.sip.media.Recording;
import io.vmesh.topology.Directory;

import java.net.InetSocketAddress;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
import javax.sip.TransactionAlreadyExistsException;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.address.AddressFactory;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ContactHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ToHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vmesh's SIP user agent on JAIN-SIP: the voicemail end of a PBX's trunk (UDP and TCP on the
 * {@code sip:} address of this server's topology entry). It authenticates the PBX as a switch,
 * answers a diverted call with G.711, has the media side play the greeting and record the caller,
 * and hands the finished recording to the route that consumes {@code sip-voicemail:calls}; the
 * caller's BYE is answered (or vmesh's own BYE sent) once that route has made it a durable message.
 * Message-summary subscriptions are {@link MessageSummaries}' business.
 */
public final class SipTrunk implements SipListener {

    private static final Logger LOG = LoggerFactory.getLogger(SipTrunk.class);
    static final String ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, SUBSCRIBE, REGISTER";

    /** Runs a finished recording through the routes. */
    public interface RecordingHandler {
        Outcome deliver(PartialCalls.Call call, byte[] wav);
    }

    /** What became of a recording: a durable message, refused for good (nothing stored), or failed (kept to retry). */
    public enum Outcome { STORED, REFUSED, FAILED }

    private final SipSettings settings;
    private final Directory directory;
    private final DigestAuthentication digest;
    private final MediaSessions media;
    private final PartialCalls partialCalls;
    private final byte[] prompt;
    private final Map<String, VoicemailCall> calls = new ConcurrentHashMap<>();
    private final AtomicInteger callNumber = new AtomicInteger();
    private volatile RecordingHandler recordings;
    private MessageSummaries summaries;

    private SipStack stack;
    private SipProvider provider;
    private HeaderFactory headers;
    private AddressFactory addresses;
    private MessageFactory messages;
    private ExecutorService finishing;
    private String host;
    private int port;

    public SipTrunk(SipSettings settings, Directory directory, DigestAuthentication digest, MediaSessions media,
                    PartialCalls partialCalls, byte[] prompt, MessageSummaries.Counter counter) {
        this.settings = settings;
        this.directory = directory;
        this.digest = digest;
        this.media = media;
        this.partialCalls = partialCalls;
        this.prompt = prompt;
        this.summaries = new MessageSummaries(this, directory, settings, counter);
    }

    public boolean enabled() {
        return settings.listen().isPresent();
    }

    public MessageSummaries summaries() {
        return summaries;
    }

    public PartialCalls partialCalls() {
        return partialCalls;
    }

    public void setRecordingHandler(RecordingHandler handler) {
        this.recordings = handler;
    }

    public int activeCalls() {
        return calls.size();
    }

    public synchronized void start() throws Exception {
        if (!enabled() || stack != null) {
            if (!enabled()) {
                LOG.info("SIP trunk off: server {} has no sip: address in the topology", settings.site());
            }
            return;
        }
        InetSocketAddress listen = settings.listen().get();
        host = listen.getHostString();
        port = listen.getPort();
        SipFactory factory = SipFactory.getInstance();
        factory.setPathName("gov.nist");
        Properties p = new Properties();
        p.setProperty("javax.sip.STACK_NAME", "vmesh-" + settings.site() + "-" + UUID.randomUUID());
        p.setProperty("javax.sip.AUTOMATIC_DIALOG_SUPPORT", "on");
        p.setProperty("gov.nist.javax.sip.STACK_LOGGER", SipStackLog.class.getName());
        p.setProperty("gov.nist.javax.sip.SERVER_LOGGER", SipMessageLog.class.getName());
        p.setProperty("gov.nist.javax.sip.TRACE_LEVEL", "0");
        // bounded memory: a message (headers and body) larger than this is refused; the stack's own threads
        p.setProperty("gov.nist.javax.sip.MAX_MESSAGE_SIZE", String.valueOf(settings.maxMessageBytes()));
        p.setProperty("gov.nist.javax.sip.THREAD_POOL_SIZE", String.valueOf(settings.threads()));
        p.setProperty("gov.nist.javax.sip.REENTRANT_LISTENER", "true");
        p.setProperty("gov.nist.javax.sip.MAX_CONNECTIONS", String.valueOf(settings.maxTcpConnections()));
        p.setProperty("gov.nist.javax.sip.READ_TIMEOUT", String.valueOf(settings.tcpReadTimeout().toMillis()));
        p.setProperty("gov.nist.javax.sip.MAX_SERVER_TRANSACTIONS", "2000");
        p.setProperty("gov.nist.javax.sip.MAX_CLIENT_TRANSACTIONS", "2000");
        p.setProperty("gov.nist.javax.sip.CACHE_CLIENT_CONNECTIONS", "true");
        p.setProperty("gov.nist.javax.sip.LOG_MESSAGE_CONTENT", "false");
        SipParserFailures.install();
        stack = factory.createSipStack(p);
        headers = factory.createHeaderFactory();
        addresses = factory.createAddressFactory();
        messages = factory.createMessageFactory();
        try {
            ListeningPoint udp = stack.createListeningPoint(host, port, ListeningPoint.UDP);
            ListeningPoint tcp = stack.createListeningPoint(host, port, ListeningPoint.TCP);
            provider = stack.createSipProvider(udp);
            provider.addListeningPoint(tcp);
        } catch (Exception e) { // a port in use, say: no half-started stack left holding the other socket
            stack.stop();
            stack = null;
            throw e;
        }
        provider.addSipListener(this);
        finishing = new ThreadPoolExecutor(settings.threads(), settings.threads(), 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "vmesh-sip-recording-" + callNumber.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        stack.start();
        summaries.start();
        LOG.info("SIP trunk listening on {}:{} (UDP and TCP); RTP ports for {} calls at once", host, port, media.capacity());
    }

    public synchronized void stop() {
        if (stack == null) {
            return;
        }
        summaries.stop();
        for (VoicemailCall call : calls.values()) {
            call.interruptForShutdown(); // the recording stays on disk: the next start makes it a message
        }
        calls.clear();
        finishing.shutdown();
        try {
            finishing.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        media.close();
        stack.stop();
        stack = null;
        LOG.info("SIP trunk stopped");
    }

    // --- requests ---------------------------------------------------------------------------------

    @Override
    public void processRequest(RequestEvent event) {
        Request request = event.getRequest();
        try {
            switch (request.getMethod()) {
                case Request.INVITE -> invite(event);
                case Request.ACK -> { } // the answer is confirmed; the media runs already
                case Request.BYE -> bye(event);
                case Request.CANCEL -> cancel(event);
                case Request.OPTIONS -> options(request);
                case Request.SUBSCRIBE -> summaries.subscribe(event);
                case Request.REGISTER -> register(request);
                default -> {
                    Response notAllowed = response(request, Response.METHOD_NOT_ALLOWED);
                    notAllowed.addHeader(headers.createAllowHeader(ALLOW));
                    provider.sendResponse(notAllowed);
                }
            }
        } catch (Exception e) {
            LOG.warn("SIP {} from {} failed: {}", request.getMethod(), event.getSource(), e.toString());
            try {
                if (!Request.ACK.equals(request.getMethod())) {
                    provider.sendResponse(response(request, Response.SERVER_INTERNAL_ERROR));
                }
            } catch (Exception ignored) {
                // nothing more to say to that peer
            }
        }
    }

    /** Trunk keep-alive: answered 200 without credentials; it says what vmesh accepts and nothing else. */
    private void options(Request request) throws Exception {
        Response ok = response(request, Response.OK);
        ok.addHeader(headers.createAllowHeader(ALLOW));
        ok.addHeader(headers.createAcceptHeader("application", "sdp"));
        ok.addHeader(headers.createAllowEventsHeader("message-summary"));
        provider.sendResponse(ok);
    }

    /**
     * A PBX (or phone) that registers its trunk: 200 for a switch, the binding not kept (vmesh never
     * calls anybody). It lets clients that subscribe to message waiting only once registered do so.
     */
    private void register(Request request) throws Exception {
        if (authenticated(request) == null) {
            return;
        }
        Response ok = response(request, Response.OK);
        javax.sip.header.ExpiresHeader expires = request.getExpires();
        ContactHeader contact = (ContactHeader) request.getHeader(ContactHeader.NAME);
        if (contact != null) {
            int seconds = contact.getExpires() >= 0 ? contact.getExpires() : expires != null ? expires.getExpires() : 3600;
            contact.setExpires(Math.min(seconds, (int) settings.maxSubscription().toSeconds()));
            ok.addHeader(contact);
        }
        provider.sendResponse(ok);
        LOG.debug("SIP REGISTER {} (contact {}) answered 200", ((javax.sip.header.ToHeader) request.getHeader(javax.sip.header.ToHeader.NAME)).getAddress(), contact == null ? "none" : contact.getAddress());
    }

    private void invite(RequestEvent event) throws Exception {
        Request request = event.getRequest();
        VoicemailCall inDialog = calls.get(callIdOf(request));
        if (inDialog != null) {
            inDialog.reinvite(event);
            return;
        }
        String switchId = authenticated(request);
        if (switchId == null) {
            return; // challenged or refused
        }
        if (recordings == null) {
            refuse(request, Response.SERVICE_UNAVAILABLE, "the recording route is not running");
            return;
        }
        DivertedCall diverted;
        try {
            diverted = DivertedCall.of(request);
        } catch (IllegalArgumentException e) {
            refuse(request, Response.BAD_REQUEST, e.getMessage());
            return;
        }
        try {
            directory.homeOf(diverted.to());
        } catch (RejectedRequest e) {
            refuse(request, Response.NOT_FOUND, e.getMessage());
            return;
        }
        if (!directory.takesVoicemail(diverted.to())) {
            refuse(request, Response.TEMPORARILY_UNAVAILABLE, "extension " + diverted.to() + " takes no voicemail");
            return;
        }
        if (!settings.voicemailStates().contains(diverted.state())) {
            refuse(request, Response.TEMPORARILY_UNAVAILABLE, "calls in state " + diverted.state() + " do not go to voicemail here");
            return;
        }
        SdpNegotiation.Agreed agreed;
        try {
            agreed = SdpNegotiation.agree(request.getRawContent());
        } catch (SdpNegotiation.NotAcceptable e) {
            Response notAcceptable = response(request, Response.NOT_ACCEPTABLE_HERE);
            notAcceptable.addHeader(headers.createWarningHeader("vmesh", 305, e.getMessage()));
            provider.sendResponse(notAcceptable);
            LOG.info("Refused SIP call {}: 488 {}", diverted.callId(), e.getMessage());
            return;
        }
        ServerTransaction transaction;
        try {
            transaction = event.getServerTransaction() != null ? event.getServerTransaction() : provider.getNewServerTransaction(request);
        } catch (TransactionAlreadyExistsException retransmission) {
            return;
        }
        String key = Instant.now().toEpochMilli() + "-" + UUID.randomUUID();
        PartialCalls.Call metadata = new PartialCalls.Call(key, diverted.to(), diverted.from(), switchId, diverted.callId(),
                diverted.state(), Instant.now().toString());
        MediaSession session;
        try {
            session = media.open(partialCalls.audioOf(key));
        } catch (NoMediaPortAvailable full) {
            Response busy = response(request, Response.SERVICE_UNAVAILABLE);
            busy.addHeader(headers.createRetryAfterHeader((int) settings.retryAfter().toSeconds()));
            transaction.sendResponse(busy);
            LOG.warn("Refused SIP call {}: all {} calls this server records at once are in progress", diverted.callId(), media.capacity());
            return;
        }
        VoicemailCall call = new VoicemailCall(this, metadata, transaction, session, agreed);
        try {
            partialCalls.begin(metadata); // before the call can be found, so a CANCEL never leaves its metadata behind
            calls.put(callIdOf(request), call);
            String answer = SdpNegotiation.answer(agreed, rtpHost(), session.localPort(), System.currentTimeMillis());
            call.answer(answer);
        } catch (Exception e) {
            calls.remove(callIdOf(request));
            session.close();
            partialCalls.end(key);
            throw e;
        }
        LOG.info("SIP call {} from {} for {} ({}) through switch {} over {}: answered with {}, recording", diverted.callId(),
                diverted.from(), diverted.to(), diverted.state(), switchId,
                ((javax.sip.header.ViaHeader) request.getHeader(javax.sip.header.ViaHeader.NAME)).getTransport(), agreed.codec());
    }

    private void bye(RequestEvent event) throws Exception {
        Request request = event.getRequest();
        ServerTransaction transaction = event.getServerTransaction() != null ? event.getServerTransaction()
                : provider.getNewServerTransaction(request);
        VoicemailCall call = calls.get(callIdOf(request));
        if (call == null) {
            transaction.sendResponse(response(request, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST));
            return;
        }
        call.finish(transaction, null);
    }

    private void cancel(RequestEvent event) throws Exception {
        Request request = event.getRequest();
        VoicemailCall call = calls.get(callIdOf(request));
        if (call == null) {
            provider.sendResponse(response(request, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST));
            return;
        }
        provider.sendResponse(response(request, Response.OK));
        call.cancel();
    }

    /** The switch a request comes from, or null when it was answered 401 or 403 here. */
    String authenticated(Request request) throws Exception {
        DigestAuthentication.Result result = digest.check(request);
        if (result instanceof DigestAuthentication.Authenticated a) {
            return a.switchId();
        }
        if (result instanceof DigestAuthentication.Challenge c) {
            Response challenge = response(request, Response.UNAUTHORIZED);
            challenge.addHeader(digest.challenge(headers, c.stale()));
            provider.sendResponse(challenge);
        } else if (result instanceof DigestAuthentication.Refused r) {
            refuse(request, Response.FORBIDDEN, r.reason());
        }
        return null;
    }

    /** A final refusal, sent without keeping a transaction: nothing of the request is kept. */
    void refuse(Request request, int status, String reason) throws Exception {
        Response refusal = response(request, status);
        refusal.addHeader(headers.createWarningHeader("vmesh", 399, reason.length() > 200 ? reason.substring(0, 200) : reason));
        provider.sendResponse(refusal);
        LOG.info("Refused SIP {} {}: {} {}", request.getMethod(), request.getRequestURI(), status, reason);
    }

    // --- what a call needs ------------------------------------------------------------------------

    Response response(Request request, int status) throws ParseException {
        Response response = messages.createResponse(status, request);
        ToHeader to = (ToHeader) response.getHeader(ToHeader.NAME);
        if (to != null && to.getTag() == null && status > 100) {
            to.setTag(Long.toHexString(Double.doubleToLongBits(Math.random())));
        }
        return response;
    }

    ContactHeader contact(String user) throws ParseException {
        return headers.createContactHeader(addresses.createAddress("<sip:" + user + "@" + host + ":" + port + ">"));
    }

    String rtpHost() {
        return host;
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    HeaderFactory headers() {
        return headers;
    }

    AddressFactory addresses() {
        return addresses;
    }

    SipProvider provider() {
        return provider;
    }

    byte[] prompt() {
        return prompt;
    }

    Duration retryAfter() {
        return settings.retryAfter();
    }

    void runFinishing(Runnable work) {
        finishing.execute(work);
    }

    /** The recording's way into the routes; FAILED when no route takes it. */
    Outcome deliver(PartialCalls.Call call, Recording recording) {
        RecordingHandler handler = recordings;
        if (handler == null) {
            return Outcome.FAILED;
        }
        return handler.deliver(call, recording.wav());
    }

    void ended(VoicemailCall call) {
        calls.values().remove(call);
    }

    void sendInDialog(Dialog dialog, Request request) throws Exception {
        ClientTransaction transaction = provider.getNewClientTransaction(request);
        dialog.sendRequest(transaction);
    }

    private static String callIdOf(Request request) {
        return ((CallIdHeader) request.getHeader(CallIdHeader.NAME)).getCallId();
    }

    // --- the rest of the listener -------------------------------------------------------------------

    @Override
    public void processResponse(ResponseEvent event) {
        summaries.response(event);
    }

    @Override
    public void processTimeout(TimeoutEvent event) {
        if (!event.isServerTransaction() && event.getClientTransaction() != null) {
            summaries.timedOut(event.getClientTransaction().getDialog());
        }
    }

    @Override
    public void processIOException(IOExceptionEvent event) {
        LOG.debug("SIP I/O error towards {}:{} ({})", event.getHost(), event.getPort(), event.getTransport());
    }

    @Override
    public void processTransactionTerminated(TransactionTerminatedEvent event) {
    }

    @Override
    public void processDialogTerminated(DialogTerminatedEvent event) {
    }
}
