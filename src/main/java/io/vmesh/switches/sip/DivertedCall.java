package io.vmesh.switches.sip;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.ListIterator;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import gov.nist.javax.sip.header.Route;
import gov.nist.javax.sip.header.RouteList;
import gov.nist.javax.sip.header.ims.PAssertedIdentityHeader;
import gov.nist.javax.sip.parser.RouteParser;
import javax.sip.address.Address;
import javax.sip.address.SipURI;
import javax.sip.address.TelURL;
import javax.sip.address.URI;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ExtensionHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.Header;
import javax.sip.message.Request;

/**
 * What a PBX's INVITE says about the call it forwards to voicemail, in the terms of the HTTP intake:
 * the mailbox ({@code to}), the call state, the caller ({@code from}) and a {@code callId}.
 * <ul>
 * <li>mailbox: the user part of the first Diversion entry (RFC 5806), else of the History-Info entry
 *     that was retargeted to vmesh (RFC 7044), else of the Request-URI;</li>
 * <li>state: the diversion reason: no-answer NO_ANSWER, user-busy BUSY, unconditional FORWARD_ALL,
 *     do-not-disturb DND, anything else or none NO_ANSWER (History-Info: its cause 486 BUSY,
 *     302 FORWARD_ALL, else NO_ANSWER);</li>
 * <li>from: the user part of P-Asserted-Identity, else of From;</li>
 * <li>callId: the SIP Call-ID in the intake's alphabet, 128 characters at most.</li>
 * </ul>
 * Diversion and History-Info are name-addr lists with parameters, the grammar of Route: JAIN-SIP's
 * Route parser reads them.
 */
public record DivertedCall(String to, String state, String from, String callId) {

    private static final Map<String, String> REASONS = Map.of(
            "no-answer", "NO_ANSWER", "user-busy", "BUSY", "unconditional", "FORWARD_ALL", "do-not-disturb", "DND");
    private static final Pattern NOT_CALL_ID = Pattern.compile("[^A-Za-z0-9._@:-]");
    private static final Pattern NOT_CALLER = Pattern.compile("[^A-Za-z0-9+*#._@-]");
    private static final Pattern CAUSE = Pattern.compile("cause=(\\d{3})");

    public static DivertedCall of(Request invite) {
        String mailbox = userOf(invite.getRequestURI());
        String state = "NO_ANSWER";
        List<Route> diversion = entries(invite, "Diversion");
        List<Route> history = entries(invite, "History-Info");
        if (!diversion.isEmpty()) {
            Route first = diversion.get(0);
            mailbox = userOf(first.getAddress().getURI());
            String reason = first.getParameter("reason");
            state = reason == null ? "NO_ANSWER" : REASONS.getOrDefault(unquote(reason).toLowerCase(Locale.ROOT), "NO_ANSWER");
        } else if (history.size() >= 2) {
            // the last entry is the request to vmesh; the one before it is the extension that did not answer
            Route diverted = history.get(history.size() - 2);
            mailbox = userOf(diverted.getAddress().getURI());
            state = stateOfCause(diverted.getAddress().getURI());
        }
        return new DivertedCall(mailbox, state, caller(invite), callId(((CallIdHeader) invite.getHeader(CallIdHeader.NAME)).getCallId()));
    }

    /** The intake's callId for a SIP Call-ID: other characters become '-', a long one is shortened with a hash of the whole. */
    static String callId(String sipCallId) {
        String cleaned = NOT_CALL_ID.matcher(sipCallId).replaceAll("-");
        if (cleaned.length() <= 128) {
            return cleaned;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(sipCallId.getBytes(StandardCharsets.UTF_8));
            return cleaned.substring(0, 95) + "-" + HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String caller(Request invite) {
        Header asserted = invite.getHeader(PAssertedIdentityHeader.NAME);
        URI uri = asserted instanceof PAssertedIdentityHeader pai ? pai.getAddress().getURI()
                : ((FromHeader) invite.getHeader(FromHeader.NAME)).getAddress().getURI();
        String user = userOf(uri);
        String cleaned = user == null ? "" : NOT_CALLER.matcher(user).replaceAll("");
        cleaned = cleaned.length() > 64 ? cleaned.substring(0, 64) : cleaned;
        return cleaned.isEmpty() ? "anonymous" : cleaned;
    }

    private static List<Route> entries(Request request, String name) {
        List<Route> entries = new ArrayList<>();
        ListIterator<?> headers = request.getHeaders(name);
        while (headers.hasNext()) {
            Object header = headers.next();
            String value = header instanceof ExtensionHeader e ? e.getValue() : String.valueOf(header);
            try {
                RouteList list = (RouteList) new RouteParser("Route: " + value.trim() + "\n").parse();
                list.forEach(entries::add);
            } catch (ParseException | RuntimeException e) {
                throw new IllegalArgumentException("the " + name + " header is not a list of SIP addresses");
            }
        }
        return entries;
    }

    private static String stateOfCause(URI uri) {
        if (uri instanceof SipURI sip && sip.getHeader("Reason") != null) {
            Matcher cause = CAUSE.matcher(URLDecoder.decode(sip.getHeader("Reason"), StandardCharsets.UTF_8));
            if (cause.find()) {
                return switch (cause.group(1)) {
                    case "486", "600" -> "BUSY";
                    case "302" -> "FORWARD_ALL";
                    default -> "NO_ANSWER";
                };
            }
        }
        return "NO_ANSWER";
    }

    static String userOf(URI uri) {
        if (uri instanceof SipURI sip) {
            return sip.getUser();
        }
        if (uri instanceof TelURL tel) {
            return (tel.isGlobal() ? "+" : "") + tel.getPhoneNumber();
        }
        return null;
    }

    static String userOf(Address address) {
        return userOf(address.getURI());
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"") ? value.substring(1, value.length() - 1) : value;
    }
}
