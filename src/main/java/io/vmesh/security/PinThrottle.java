package io.vmesh.security;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows PIN guessing without letting anyone lock an owner out. Failed PIN checks are counted per
 * client ({@link #clientOf}: an IPv4 address, or an IPv6 /64, which one client may own whole) and per mailbox; each count decays, one failure forgotten per
 * {@code decay}. A check is reserved, counted as a failure, before the PIN is compared, all under one
 * lock, so parallel requests can never get more checks than the limits allow; a right PIN gives its
 * reservation back. Over a limit, a request is not checked at all (429, retry after the time the
 * count takes to fall below it).
 *
 * <p>The mailbox limit does not apply to a client that has opened that mailbox before: an attacker
 * spraying guesses at a mailbox from elsewhere cannot keep its owner out. (The client limit still
 * does; an attacker sharing the owner's address slows the owner down too.)
 *
 * <p>Each kind of key is held at most {@code maxKeys} times: counts that have decayed to nothing are
 * dropped from the least recently used end as new ones come (each once, so a check costs the same
 * however many keys there are), and past {@code maxKeys} the least recently used count goes.
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
    private final int maxKeys;
    /** Least recently used first (access order), so that decayed counts are found at the front. */
    private final Map<String, Count> clients = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, Count> mailboxes = new LinkedHashMap<>(16, 0.75f, true);
    /** "client mailbox" pairs that gave the right PIN lately, least recently used first. */
    private final Map<String, Boolean> knownOwners;

    public PinThrottle(int maxPerClient, int maxPerMailbox, Duration decay) {
        this(maxPerClient, maxPerMailbox, decay, MAX_KEYS);
    }

    PinThrottle(int maxPerClient, int maxPerMailbox, Duration decay, int maxKeys) {
        if (maxPerClient < 1 || maxPerMailbox < 1 || decay.isNegative() || decay.isZero() || maxKeys < 1) {
            throw new IllegalArgumentException("PIN failure limits must be at least 1 and their decay positive");
        }
        this.maxPerClient = maxPerClient;
        this.maxPerMailbox = maxPerMailbox;
        this.decayNanos = decay.toNanos();
        this.maxKeys = maxKeys;
        this.knownOwners = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > maxKeys;
            }
        };
    }

    /**
     * Who a failure is counted against: an IPv4 address, or the /64 of an IPv6 one (the smallest
     * network handed to one site or household: its owner has 2^64 addresses to try from).
     */
    public static String clientOf(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            InetAddress address = inet.getAddress();
            if (address instanceof Inet6Address) {
                byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
                Arrays.fill(prefix, 8, 16, (byte) 0);
                try {
                    return InetAddress.getByAddress(prefix).getHostAddress() + "/64";
                } catch (UnknownHostException cannot) {
                    throw new IllegalStateException("16 bytes are an IPv6 address", cannot);
                }
            }
            return address.getHostAddress();
        }
        return remote == null ? "unknown" : remote.toString();
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
        giveBack(current(clients, reservation.client(), now));
        if (reservation.countedOnMailbox()) {
            giveBack(current(mailboxes, reservation.mailbox(), now));
        }
        knownOwners.put(reservation.client() + " " + reservation.mailbox(), Boolean.TRUE);
    }

    private static void giveBack(Count count) {
        count.level = Math.max(0, count.level - 1); // 0 if a flood of other keys pushed it out meanwhile
    }

    private Count current(Map<String, Count> counts, String key, long now) {
        Count count = counts.get(key);
        if (count == null) {
            evict(counts, now);
            count = new Count();
            counts.put(key, count);
        }
        count.level = Math.max(0, decayed(count, now));
        count.at = now;
        return count;
    }

    /** Before a new key: drops decayed counts from the least recently used end, and the oldest at {@code maxKeys}. */
    private void evict(Map<String, Count> counts, long now) {
        Iterator<Count> oldestFirst = counts.values().iterator();
        while (oldestFirst.hasNext()) {
            Count oldest = oldestFirst.next();
            if (decayed(oldest, now) > 0 && counts.size() < maxKeys) {
                return;
            }
            oldestFirst.remove();
        }
    }

    /** For tests: how many keys are held. */
    int heldKeys() {
        return clients.size() + mailboxes.size() + knownOwners.size();
    }

    private double decayed(Count count, long now) {
        return count.level - (double) (now - count.at) / decayNanos;
    }

    private long secondsUntilBelow(Count count, int max) {
        double excess = count.level + 1 - max;
        return Math.max(1, (long) Math.ceil(excess * decayNanos / 1e9));
    }
}
