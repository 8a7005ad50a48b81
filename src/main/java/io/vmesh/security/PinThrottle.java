package io.vmesh.security;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows PIN guessing without letting anyone lock an owner out. Failed PIN checks are counted per
 * client (remote address) and per mailbox; each count decays, one failure forgotten per
 * {@code decay}. A check is reserved, counted as a failure, before the PIN is compared, all under one
 * lock, so parallel requests can never get more checks than the limits allow; a right PIN gives its
 * reservation back. Over a limit, a request is not checked at all (429, retry after the time the
 * count takes to fall below it).
 *
 * <p>The mailbox limit does not apply to a client that has opened that mailbox before: an attacker
 * spraying guesses at a mailbox from elsewhere cannot keep its owner out. (The client limit still
 * does; an attacker sharing the owner's address slows the owner down too.)
 */
public final class PinThrottle {

    /** Accepted: the check may go ahead, counted as a failure; a right PIN gives it back ({@link #succeeded}). */
    public record Reservation(String client, String mailbox, boolean countedOnMailbox) {
    }

    /** Over a limit: how long until one more check is allowed, in whole seconds. */
    public static final class Throttled extends Exception {
        private final long retryAfterSeconds;
        private final boolean byClient;

        Throttled(long retryAfterSeconds, boolean byClient) {
            super(null, null, false, false);
            this.retryAfterSeconds = retryAfterSeconds;
            this.byClient = byClient;
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }

        public boolean byClient() {
            return byClient;
        }
    }

    private static final int MAX_KEYS = 100_000;

    /** A decaying count: {@code level} at {@code at} (nanos), falling by one per decay. */
    private static final class Count {
        double level;
        long at;
    }

    private final int maxPerClient;
    private final int maxPerMailbox;
    private final long decayNanos;
    private final Map<String, Count> clients = new HashMap<>();
    private final Map<String, Count> mailboxes = new HashMap<>();
    /** "client mailbox" pairs that gave the right PIN lately, least recently used first. */
    private final Map<String, Boolean> knownOwners = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > MAX_KEYS;
        }
    };

    public PinThrottle(int maxPerClient, int maxPerMailbox, Duration decay) {
        if (maxPerClient < 1 || maxPerMailbox < 1 || decay.isNegative() || decay.isZero()) {
            throw new IllegalArgumentException("PIN failure limits must be at least 1 and their decay positive");
        }
        this.maxPerClient = maxPerClient;
        this.maxPerMailbox = maxPerMailbox;
        this.decayNanos = decay.toNanos();
    }

    public synchronized Reservation reserve(String client, String mailbox) throws Throttled {
        long now = System.nanoTime();
        Count byClient = current(clients, client, now);
        if (byClient.level + 1 > maxPerClient) {
            throw new Throttled(secondsUntilBelow(byClient, maxPerClient), true);
        }
        boolean knownOwner = knownOwners.containsKey(client + " " + mailbox);
        Count byMailbox = knownOwner ? null : current(mailboxes, mailbox, now);
        if (byMailbox != null && byMailbox.level + 1 > maxPerMailbox) {
            throw new Throttled(secondsUntilBelow(byMailbox, maxPerMailbox), false);
        }
        byClient.level++;
        if (byMailbox != null) {
            byMailbox.level++;
        }
        return new Reservation(client, mailbox, byMailbox != null);
    }

    /** The right PIN: the reserved failure is given back, and this client is known to this mailbox. */
    public synchronized void succeeded(Reservation reservation) {
        long now = System.nanoTime();
        current(clients, reservation.client(), now).level--;
        if (reservation.countedOnMailbox()) {
            current(mailboxes, reservation.mailbox(), now).level--;
        }
        knownOwners.put(reservation.client() + " " + reservation.mailbox(), Boolean.TRUE);
    }

    private Count current(Map<String, Count> counts, String key, long now) {
        if (counts.size() > MAX_KEYS) {
            counts.values().removeIf(c -> decayed(c, now) <= 0);
        }
        Count count = counts.computeIfAbsent(key, k -> new Count());
        count.level = Math.max(0, decayed(count, now));
        count.at = now;
        return count;
    }

    private double decayed(Count count, long now) {
        return count.level - (double) (now - count.at) / decayNanos;
    }

    private long secondsUntilBelow(Count count, int max) {
        double excess = count.level + 1 - max;
        return Math.max(1, (long) Math.ceil(excess * decayNanos / 1e9));
    }
}
