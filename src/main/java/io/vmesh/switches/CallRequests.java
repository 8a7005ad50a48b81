package io.vmesh.switches;

import io.vmesh.RejectedRequest;
import io.vmesh.security.Printable;
import io.vmesh.security.Secrets;
import io.vmesh.topology.Directory;

import java.util.Set;
import java.util.regex.Pattern;

import org.apache.camel.Header;

/**
 * FIG. 4 step 405: what a switch must send with a call. Checked before anything else happens, so a
 * bad call is refused with a reason and nothing is stored.
 */
public final class CallRequests {

    /** Every state a switch may report; which of them go to voicemail is the call-status route's business. */
    public static final Set<String> STATES = Set.of("ANSWERED", "NO_ANSWER", "BUSY", "DND", "FORWARD_ALL");

    private static final Pattern CALL_ID = Pattern.compile("[A-Za-z0-9._@:-]{1,128}");
    private static final Pattern CALLER = Pattern.compile("[A-Za-z0-9+*#._@-]{1,64}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** Stands for the token of a switch that has none: no token is ever equal to it. */
    private static final String UNKNOWN = "\u0000no token";

    private final Directory directory;
    private final Secrets secrets;

    public CallRequests(Directory directory, Secrets secrets) {
        this.directory = directory;
        this.secrets = secrets;
    }

    public void validate(@Header("switchId") String switchId, @Header("Authorization") String authorization,
                         @Header("callId") String callId, @Header("from") String from, @Header("to") String to,
                         @Header("state") String state) {
        requireToken(switchId, authorization);
        validateCall(switchId, callId, from, to, state);
    }

    /**
     * The checks of a call's parameters, for a switch authenticated already (the SIP trunk's digest):
     * the same rules as {@link #validate}, the same refusals.
     */
    public void validateCall(@Header("switchId") String switchId, @Header("callId") String callId,
                             @Header("from") String from, @Header("to") String to, @Header("state") String state) {
        if (switchId == null || !directory.isKnownSwitch(switchId)) {
            throw new RejectedRequest(403, "switch '" + Printable.of(switchId) + "' is not in the topology");
        }
        requireCallId("parameter 'callId'", callId);
        requireCaller("parameter 'from'", from);
        if (to == null || to.isEmpty()) {
            throw RejectedRequest.badRequest("parameter 'to' (the extension called) is missing");
        }
        if (state == null || state.isEmpty()) {
            throw RejectedRequest.badRequest("parameter 'state' is missing; one of " + String.join(", ", sorted()));
        }
        if (!STATES.contains(state)) {
            throw RejectedRequest.badRequest("unknown call state '" + Printable.of(state) + "'; one of " + String.join(", ", sorted()));
        }
        directory.homeOf(to); // digits and in the directory, or a 400/404 that says which
    }

    /**
     * 401 unless the switch presents its own token. A switch not in the topology gets the same answer
     * as a wrong token, so that switch ids cannot be enumerated. Also called on the request's head,
     * before its body is read (DataPortGuard).
     */
    public void requireToken(String switchId, String authorization) {
        String token = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorization.substring(7).trim() : null;
        boolean known = switchId != null && directory.isKnownSwitch(switchId);
        // compared even for an unknown switch, so that both refusals take the same time
        boolean same = Secrets.same(known ? secrets.switchToken(switchId).orElse(UNKNOWN) : UNKNOWN, token);
        if (!known || !same) {
            throw new RejectedRequest(401, "switch " + Printable.of(switchId) + " must authenticate with its token (Authorization: Bearer ...)");
        }
    }

    /** A call id as a switch sends it; {@code what} names it in the answer ("parameter 'callId'"). */
    public static void requireCallId(String what, String value) {
        require(what, value, CALL_ID, "1 to 128 letters, digits or ._@:-");
    }

    /** A caller's number or name as a switch sends it. */
    public static void requireCaller(String what, String value) {
        require(what, value, CALLER, "1 to 64 letters, digits or +*#._@-");
    }

    /** A switch's or a server's id, as the topology spells them. */
    public static void requireId(String what, String value) {
        require(what, value, ID, "1 to 64 letters, digits or ._-");
    }

    private static void require(String what, String value, Pattern pattern, String rule) {
        if (value == null || value.isEmpty()) {
            throw RejectedRequest.badRequest(what + " is missing");
        }
        if (!pattern.matcher(value).matches()) {
            throw RejectedRequest.badRequest(what + " must be " + rule + ", got '" + Printable.of(value) + "'");
        }
    }

    private static java.util.List<String> sorted() {
        return STATES.stream().sorted().toList();
    }
}
