package io.vmesh.security;

import io.vmesh.RejectedRequest;
import io.vmesh.Vmesh;
import io.vmesh.migration.PeerBatch;
import io.vmesh.migration.PeerIntake;
import io.vmesh.topology.Directory;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.apache.camel.Header;
import org.apache.camel.Message;

/**
 * Server-to-server requests ({@code /peer/...}) are signed: HMAC-SHA256 with the cluster secret over
 * the method, the path, the sending server's id, a timestamp, the message id, the SHA-256 of the metadata header and the
 * SHA-256 of the body. (The id makes every message's signature its own: two messages with the same
 * audio signed in the same millisecond must not look like a replay of each other.) The receiver refuses an unsigned or
 * wrongly signed request (401), and a stale or replayed one (403).
 */
public final class PeerAuthentication {

    public static final String PEER = "X-Vmesh-Peer";
    public static final String TIMESTAMP = "X-Vmesh-Timestamp";
    public static final String SIGNATURE = "X-Vmesh-Signature";

    private final String site;
    private final Directory directory;
    private final Secrets secrets;
    private final long maxSkewMillis;
    /** Signatures seen within the accepted window, oldest first: a second use is a replay. */
    private final Map<String, Long> seen = new LinkedHashMap<>();
    /**
     * HMAC-SHA256 keyed with the cluster secret, one per thread (doFinal leaves it ready for the next):
     * not looked up among the security providers and keyed again for each of the two or three
     * signatures a message takes.
     */
    private final ThreadLocal<Mac> hmac = ThreadLocal.withInitial(this::keyedMac);

    public PeerAuthentication(String site, Directory directory, Secrets secrets, Duration maxSkew) {
        this.site = site;
        this.directory = directory;
        this.secrets = secrets;
        this.maxSkewMillis = maxSkew.toMillis();
    }

    /** Adds this server's signature to a peer request about to be sent; the body digest is already in its header. */
    public void sign(Message request, @Header("CamelHttpMethod") String method) {
        String timestamp = String.valueOf(System.currentTimeMillis());
        request.setHeader(PEER, site);
        request.setHeader(TIMESTAMP, timestamp);
        request.setHeader(SIGNATURE, signature(method, "/peer/voicemail", site, timestamp,
                request.getHeader(PeerIntake.MESSAGE_ID, String.class), request.getHeader(PeerIntake.METADATA, String.class),
                request.getHeader(PeerIntake.SHA256, String.class)));
    }

    /**
     * Signs a batch of migrations ({@code POST /peer/voicemails}) about to be sent: no message id or
     * metadata of its own (each message in it is signed as its single request would be), the body's
     * SHA-256 already in its header.
     */
    public void signBatch(Message request, @Header("CamelHttpMethod") String method) {
        String timestamp = String.valueOf(System.currentTimeMillis());
        request.setHeader(PEER, site);
        request.setHeader(TIMESTAMP, timestamp);
        request.setHeader(SIGNATURE, signature(method, PeerBatch.PATH, site, timestamp, null, null,
                request.getHeader(PeerIntake.SHA256, String.class)));
    }

    /**
     * 401 unless signed by a peer with the cluster secret, 403 if signed too far from this server's
     * clock; returns this server's time. Everything signed is in the request's head (the body's
     * digest included), so this runs on the head, before the body is read (RequestHeadCheck), and
     * again in the route with the replay check.
     */
    public long checkSignature(String method, String uri, String peer, String timestamp, String signature, String messageId,
                               String metadata, String bodyDigest) {
        if (peer == null || timestamp == null || signature == null) {
            throw new RejectedRequest(401, "peer requests must be signed (" + PEER + ", " + TIMESTAMP + ", " + SIGNATURE + ")");
        }
        if (directory.server(peer).isEmpty() || peer.equals(site)) {
            throw new RejectedRequest(401, "'" + Printable.of(peer) + "' is not a peer of this server");
        }
        long sent;
        try {
            sent = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            throw new RejectedRequest(401, TIMESTAMP + " must be milliseconds since the epoch");
        }
        String path = uri == null ? "" : uri.indexOf('?') < 0 ? uri : uri.substring(0, uri.indexOf('?'));
        String expected = signature(method, path, peer, timestamp, messageId, metadata, bodyDigest);
        if (!Secrets.same(expected, signature)) {
            throw new RejectedRequest(401, "the signature does not match: wrong cluster secret, or the request was altered");
        }
        long now = System.currentTimeMillis();
        if (Math.abs(now - sent) > maxSkewMillis) {
            throw new RejectedRequest(403, "the request was signed " + Math.abs(now - sent) / 1000
                    + " s away from this server's clock; at most " + maxSkewMillis / 1000 + " s are accepted");
        }
        return now;
    }

    /**
     * Checks a peer request before anything else is done with it: {@link #checkSignature}, then that
     * the signature was not accepted before (a replay).
     */
    public void verify(@Header("CamelHttpMethod") String method, @Header("CamelHttpUri") String uri,
                       @Header(PEER) String peer, @Header(TIMESTAMP) String timestamp,
                       @Header(SIGNATURE) String signature, @Header(PeerIntake.MESSAGE_ID) String messageId,
                       @Header(PeerIntake.METADATA) String metadata, @Header(PeerIntake.SHA256) String bodyDigest) {
        long now = checkSignature(method, uri, peer, timestamp, signature, messageId, metadata, bodyDigest);
        synchronized (seen) {
            // oldest first: drop from the head only what left the window, not a walk of every entry per request
            for (Iterator<Long> oldest = seen.values().iterator(); oldest.hasNext() && oldest.next() < now - 2 * maxSkewMillis; ) {
                oldest.remove();
            }
            if (seen.putIfAbsent(signature, now) != null) {
                throw new RejectedRequest(403, "this signed request was received before: a replay is refused");
            }
        }
    }

    public String signature(String method, String path, String peer, String timestamp, String messageId, String metadata,
                            String bodyDigest) {
        String canonical = method + "\n" + path + "\n" + peer + "\n" + timestamp + "\n" + (messageId == null ? "" : messageId) + "\n"
                + Sha256.hex((metadata == null ? "" : metadata).getBytes(StandardCharsets.UTF_8)) + "\n"
                + (bodyDigest == null ? "" : bodyDigest);
        return HexFormat.of().formatHex(hmac.get().doFinal(canonical.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac keyedMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secrets.clusterSecret(), "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
