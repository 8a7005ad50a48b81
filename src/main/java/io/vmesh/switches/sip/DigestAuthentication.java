package io.vmesh.switches.sip;

import io.vmesh.security.Secrets;
import io.vmesh.topology.Directory;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.sip.header.AuthorizationHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.WWWAuthenticateHeader;
import javax.sip.message.Request;

/**
 * SIP digest authentication of a PBX as one of the topology's switches (RFC 3261 §22, RFC 2617 MD5
 * with qop=auth): user = switch id, password = its token in secrets.properties. A nonce is the time
 * it was made and this server's MAC of it, so a stale or forged nonce is refused without keeping
 * any state per challenge. On an INVITE (what makes vmesh send media and record) each nonce count
 * (nc, or the nonce itself without qop) is good for one call only: credentials copied off the wire
 * and sent again with another call are challenged afresh. What is remembered for that is bounded by
 * the calls of one nonce lifetime.
 */
public final class DigestAuthentication {

    /** What a request's credentials amount to. */
    public sealed interface Result permits Authenticated, Challenge, Refused {
    }

    /** The request comes from this switch. */
    public record Authenticated(String switchId) implements Result {
    }

    /** No credentials, or credentials for an outdated nonce: 401 with a fresh challenge. */
    public record Challenge(boolean stale) implements Result {
    }

    /** Credentials that are wrong: 403. */
    public record Refused(String reason) implements Result {
    }

    private final String realm;
    private final Directory directory;
    private final Secrets secrets;
    private final Duration nonceLifetime;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final byte[] nonceKey = new byte[32];
    private final Map<String, Use> lastUse = new ConcurrentHashMap<>();

    /** The highest nonce count a nonce was used with, and when the nonce was made. */
    private record Use(long count, long madeMillis) {
    }

    public DigestAuthentication(String realm, Directory directory, Secrets secrets, Duration nonceLifetime, Clock clock) {
        this.realm = realm;
        this.directory = directory;
        this.secrets = secrets;
        this.nonceLifetime = nonceLifetime;
        this.clock = clock;
        random.nextBytes(nonceKey);
    }

    public Result check(Request request) {
        AuthorizationHeader credentials = (AuthorizationHeader) request.getHeader(AuthorizationHeader.NAME);
        if (credentials == null || !realm.equals(credentials.getRealm())) {
            return new Challenge(false);
        }
        String user = credentials.getUsername();
        if (user == null || !directory.isKnownSwitch(user)) {
            return new Refused("'" + io.vmesh.security.Printable.of(user) + "' is not a switch of the topology");
        }
        Optional<String> token = secrets.switchToken(user);
        if (token.isEmpty()) {
            return new Refused("switch " + user + " has no token in secrets.properties");
        }
        String nonce = credentials.getNonce();
        if (nonce == null || !ourNonce(nonce)) {
            return new Challenge(true); // a nonce of before a restart, or made up: challenged afresh
        }
        String expected = response(credentials, request.getMethod(), token.get());
        String given = credentials.getResponse();
        if (given == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                given.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
            return new Refused("wrong password for switch " + user);
        }
        if (nonceAge(nonce).compareTo(nonceLifetime) > 0) {
            return new Challenge(true); // right password, old nonce: the client retries at once with a new one
        }
        if (Request.INVITE.equals(request.getMethod()) && !firstUse(nonce, credentials.getParameter("nc"))) {
            return new Challenge(true); // a replayed call: the nonce count was used for another request already
        }
        return new Authenticated(user);
    }

    /**
     * Records this use of the nonce: true when its count is higher than any before. A retransmission
     * never gets here: the stack absorbs it in the transaction the first copy opened.
     */
    private boolean firstUse(String nonce, String nc) {
        long count;
        try {
            count = nc == null || nc.isEmpty() ? 0 : Long.parseLong(nc, 16);
        } catch (NumberFormatException e) {
            return false;
        }
        long now = clock.millis();
        long made = now - nonceAge(nonce).toMillis();
        lastUse.values().removeIf(u -> now - u.madeMillis() > nonceLifetime.toMillis());
        boolean[] first = {false};
        lastUse.compute(nonce, (n, before) -> {
            first[0] = before == null || count > before.count();
            return first[0] ? new Use(count, made) : before;
        });
        return first[0];
    }

    /** The WWW-Authenticate header of a 401. */
    public WWWAuthenticateHeader challenge(HeaderFactory headers, boolean stale) throws java.text.ParseException {
        WWWAuthenticateHeader challenge = headers.createWWWAuthenticateHeader("Digest");
        challenge.setRealm(realm);
        challenge.setNonce(newNonce());
        challenge.setAlgorithm("MD5");
        challenge.setQop("auth");
        challenge.setStale(stale);
        return challenge;
    }

    private String response(AuthorizationHeader c, String method, String password) {
        String ha1 = md5(c.getUsername() + ":" + realm + ":" + password);
        String ha2 = md5(method + ":" + c.getURI());
        String qop = c.getQop();
        if (qop == null || qop.isEmpty()) {
            return md5(ha1 + ":" + c.getNonce() + ":" + ha2);
        }
        String nc = c.getParameter("nc");
        return md5(ha1 + ":" + c.getNonce() + ":" + nc + ":" + c.getCNonce() + ":" + qop + ":" + ha2);
    }

    /** The time it was made, a random part (every challenge's nonce is its own), and the MAC of both. */
    private String newNonce() {
        byte[] unique = new byte[9];
        random.nextBytes(unique);
        String made = Long.toString(clock.millis(), 36) + "-" + Base64.getUrlEncoder().withoutPadding().encodeToString(unique);
        return made + "." + mac(made);
    }

    private boolean ourNonce(String nonce) {
        int dot = nonce.indexOf('.');
        int dash = nonce.indexOf('-');
        return dash > 0 && dot > dash && MessageDigest.isEqual(mac(nonce.substring(0, dot)).getBytes(StandardCharsets.US_ASCII),
                nonce.substring(dot + 1).getBytes(StandardCharsets.US_ASCII));
    }

    private Duration nonceAge(String nonce) {
        long made = Long.parseLong(nonce.substring(0, nonce.indexOf('-')), 36);
        return Duration.ofMillis(clock.millis() - made);
    }

    private String mac(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(nonceKey, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
