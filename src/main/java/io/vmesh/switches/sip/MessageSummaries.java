package io.vmesh.switches.sip;

import io.vmesh.RejectedRequest;
import io.vmesh.topology.Directory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import javax.sip.Dialog;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.TransactionAlreadyExistsException;
import javax.sip.header.EventHeader;
import javax.sip.header.ExpiresHeader;
import javax.sip.header.SubscriptionStateHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Message waiting for phones and PBXs (RFC 3842 over RFC 6665): {@code SUBSCRIBE sip:<ext>@<server>}
 * with {@code Event: message-summary}, from a switch (digest), is accepted on the extension's home
 * (other servers answer 302 with the home's SIP address) for at most {@code vmesh.sip.subscription.max-seconds},
 * while fewer than {@code vmesh.sip.subscription.max-active} are (they are kept in memory; beyond, 503).
 * A NOTIFY with {@code application/simple-message-summary} follows at once, after every change of the
 * mailbox ({@link #changed}), on a refresh, and a terminated one at expiry or unsubscription.
 */
public final class MessageSummaries {

    private static final Logger LOG = LoggerFactory.getLogger(MessageSummaries.class);
    private static final String EVENT = "message-summary";

    /** New (unheard) and old (heard) messages of a mailbox. */
    public record Counts(int newMessages, int oldMessages) {
    }

    /** The mailbox's counts, from the store. */
    public interface Counter {
        Counts of(String extension);
    }

    private final SipTrunk trunk;
    private final Directory directory;
    private final SipSettings settings;
    private final Counter counter;
    private final Map<Dialog, Subscription> subscriptions = new ConcurrentHashMap<>();
    private ScheduledExecutorService timers;

    private final class Subscription {
        final String extension;
        final Dialog dialog;
        volatile long expiresAtMillis;
        volatile ScheduledFuture<?> expiry;

        Subscription(String extension, Dialog dialog) {
            this.extension = extension;
            this.dialog = dialog;
        }
    }

    MessageSummaries(SipTrunk trunk, Directory directory, SipSettings settings, Counter counter) {
        this.trunk = trunk;
        this.directory = directory;
        this.settings = settings;
        this.counter = counter;
    }

    void start() {
        timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vmesh-sip-subscriptions");
            t.setDaemon(true);
            return t;
        });
    }

    void stop() {
        for (Subscription s : List.copyOf(subscriptions.values())) {
            terminate(s, "deactivated"); // RFC 6665: the subscriber may subscribe again at once (elsewhere)
        }
        timers.shutdownNow();
    }

    public int active() {
        return subscriptions.size();
    }

    /** The mailbox changed (a message new, migrated in, heard or deleted): every subscriber is told. */
    public void changed(String extension) {
        for (Subscription s : subscriptions.values()) {
            if (s.extension.equals(extension)) {
                notify(s, true);
            }
        }
    }

    void subscribe(RequestEvent event) throws Exception {
        Request request = event.getRequest();
        Subscription existing = event.getDialog() == null ? null : subscriptions.get(event.getDialog());
        EventHeader eventHeader = (EventHeader) request.getHeader(EventHeader.NAME);
        if (eventHeader == null || !EVENT.equalsIgnoreCase(eventHeader.getEventType())) {
            Response bad = trunk.response(request, Response.BAD_EVENT);
            bad.addHeader(trunk.headers().createAllowEventsHeader(EVENT));
            trunk.provider().sendResponse(bad);
            return;
        }
        ExpiresHeader expiresHeader = request.getExpires();
        long asked = expiresHeader == null ? settings.maxSubscription().toSeconds() : expiresHeader.getExpires();
        if (asked > 0 && asked < settings.minSubscription().toSeconds()) {
            Response brief = trunk.response(request, Response.INTERVAL_TOO_BRIEF);
            brief.addHeader(trunk.headers().createMinExpiresHeader((int) settings.minSubscription().toSeconds()));
            trunk.provider().sendResponse(brief);
            return;
        }
        long granted = Math.min(asked, settings.maxSubscription().toSeconds());
        if (existing != null) {
            refresh(event, existing, granted);
            return;
        }
        if (event.getDialog() != null && request.getHeader(javax.sip.header.ToHeader.NAME) != null
                && ((javax.sip.header.ToHeader) request.getHeader(javax.sip.header.ToHeader.NAME)).getTag() != null) {
            trunk.refuse(request, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, "no such subscription");
            return;
        }
        if (trunk.authenticated(request) == null) {
            return;
        }
        String extension = DivertedCall.userOf(request.getRequestURI());
        String home;
        try {
            home = directory.homeOf(extension);
        } catch (RejectedRequest e) {
            trunk.refuse(request, Response.NOT_FOUND, e.getMessage());
            return;
        }
        if (!home.equals(settings.site())) {
            redirect(request, extension, home);
            return;
        }
        if (granted > 0 && subscriptions.size() >= settings.maxSubscriptions()) {
            Response full = trunk.response(request, Response.SERVICE_UNAVAILABLE);
            full.addHeader(trunk.headers().createRetryAfterHeader((int) settings.retryAfter().toSeconds()));
            trunk.provider().sendResponse(full);
            LOG.warn("Refused a message-summary subscription to {}: {} are active, vmesh.sip.subscription.max-active",
                    extension, subscriptions.size());
            return;
        }
        ServerTransaction transaction;
        try {
            transaction = event.getServerTransaction() != null ? event.getServerTransaction()
                    : trunk.provider().getNewServerTransaction(request);
        } catch (TransactionAlreadyExistsException retransmission) {
            return;
        }
        Response ok = trunk.response(request, Response.OK);
        ok.addHeader(trunk.contact(extension));
        ok.addHeader(trunk.headers().createExpiresHeader((int) granted));
        transaction.sendResponse(ok);
        Dialog dialog = transaction.getDialog();
        Subscription subscription = new Subscription(extension, dialog);
        if (granted == 0) { // a fetch: the state once, then the end (RFC 6665 §4.4.3)
            notify(subscription, false);
            return;
        }
        subscriptions.put(dialog, subscription);
        schedule(subscription, granted);
        LOG.info("Message-summary subscription to {} for {} s", extension, granted);
        notify(subscription, true);
    }

    private void refresh(RequestEvent event, Subscription s, long granted) throws Exception {
        Request request = event.getRequest();
        ServerTransaction transaction = event.getServerTransaction() != null ? event.getServerTransaction()
                : trunk.provider().getNewServerTransaction(request);
        Response ok = trunk.response(request, Response.OK);
        ok.addHeader(trunk.contact(s.extension));
        ok.addHeader(trunk.headers().createExpiresHeader((int) granted));
        transaction.sendResponse(ok);
        if (granted == 0) {
            terminate(s, null);
            return;
        }
        schedule(s, granted);
        notify(s, true);
    }

    private void redirect(Request request, String extension, String home) throws Exception {
        InetSocketAddress homeSip = directory.server(home).flatMap(Directory.Server::sip).orElse(null);
        if (homeSip == null) {
            trunk.refuse(request, Response.TEMPORARILY_UNAVAILABLE, "the home of " + extension + ", " + home + ", has no SIP address");
            return;
        }
        Response moved = trunk.response(request, Response.MOVED_TEMPORARILY);
        moved.addHeader(trunk.headers().createContactHeader(trunk.addresses().createAddress(
                "<sip:" + extension + "@" + homeSip.getHostString() + ":" + homeSip.getPort() + ">")));
        trunk.provider().sendResponse(moved);
    }

    private void schedule(Subscription s, long seconds) {
        if (s.expiry != null) {
            s.expiry.cancel(false);
        }
        s.expiresAtMillis = System.currentTimeMillis() + seconds * 1000;
        s.expiry = timers.schedule(() -> terminate(s, "timeout"), seconds, TimeUnit.SECONDS);
    }

    private void terminate(Subscription s, String reason) {
        if (subscriptions.remove(s.dialog) != null || reason == null) {
            if (s.expiry != null) {
                s.expiry.cancel(false);
            }
            notify(s, false, reason);
            LOG.info("Message-summary subscription to {} ended ({})", s.extension, reason == null ? "unsubscribed" : reason);
        }
    }

    private void notify(Subscription s, boolean active) {
        notify(s, active, active ? null : "timeout");
    }

    private void notify(Subscription s, boolean active, String reason) {
        try {
            Counts counts = counter.of(s.extension);
            Request notify = s.dialog.createRequest(Request.NOTIFY);
            notify.addHeader(trunk.headers().createEventHeader(EVENT));
            SubscriptionStateHeader state = trunk.headers().createSubscriptionStateHeader(
                    active ? SubscriptionStateHeader.ACTIVE : SubscriptionStateHeader.TERMINATED);
            if (active) {
                state.setExpires((int) Math.max(0, (s.expiresAtMillis - System.currentTimeMillis()) / 1000));
            } else if (reason != null) {
                state.setReasonCode(reason);
            }
            notify.addHeader(state);
            notify.setHeader(trunk.contact(s.extension)); // in place of the stack's own: one Contact, the mailbox's
            String body = "Messages-Waiting: " + (counts.newMessages() > 0 ? "yes" : "no") + "\r\n"
                    + "Message-Account: sip:" + s.extension + "@" + trunk.host() + ":" + trunk.port() + "\r\n"
                    + "Voice-Message: " + counts.newMessages() + "/" + counts.oldMessages() + "\r\n";
            notify.setContent(body, trunk.headers().createContentTypeHeader("application", "simple-message-summary"));
            trunk.sendInDialog(s.dialog, notify);
        } catch (Exception e) {
            LOG.warn("NOTIFY of {} failed: {}", s.extension, e.toString());
        }
    }

    /** A subscriber that answers NOTIFY with an error (481: it forgot the subscription) is dropped. */
    void response(ResponseEvent event) {
        Response response = event.getResponse();
        Dialog dialog = event.getDialog();
        if (dialog != null && response.getStatusCode() >= 300) {
            Subscription s = subscriptions.remove(dialog);
            if (s != null) {
                if (s.expiry != null) {
                    s.expiry.cancel(false);
                }
                LOG.info("Message-summary subscription to {} dropped: the subscriber answered {}", s.extension, response.getStatusCode());
            }
        }
    }

    void timedOut(Dialog dialog) {
        if (dialog != null) {
            Subscription s = subscriptions.remove(dialog);
            if (s != null && s.expiry != null) {
                s.expiry.cancel(false);
                LOG.info("Message-summary subscription to {} dropped: the subscriber does not answer", s.extension);
            }
        }
    }

    Duration maximum() {
        return settings.maxSubscription();
    }
}
