package io.vmesh.switches.sip;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.support.DefaultComponent;

/**
 * The SIP trunk as a Camel component, {@code sip-voicemail:}:
 * <ul>
 * <li>{@code from: sip-voicemail:calls}: each recording a PBX's call leaves becomes an exchange
 *     shaped like the HTTP intake's (headers switchId, callId, from, to, state; the WAV as body). The
 *     caller's BYE is answered when the exchange completes;</li>
 * <li>{@code to: sip-voicemail:message-summary}: the mailbox in header {@code ext} changed; its
 *     message-summary subscribers get a NOTIFY.</li>
 * </ul>
 * The SIP stack runs while the component does.
 */
public final class SipVoicemailComponent extends DefaultComponent {

    private final SipTrunk trunk;

    public SipVoicemailComponent(SipTrunk trunk) {
        this.trunk = trunk;
    }

    SipTrunk trunk() {
        return trunk;
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        if (!remaining.equals(SipVoicemailEndpoint.CALLS) && !remaining.equals(SipVoicemailEndpoint.MESSAGE_SUMMARY)) {
            throw new IllegalArgumentException("sip-voicemail:" + remaining + " is not an endpoint; sip-voicemail:calls (from) or sip-voicemail:message-summary (to)");
        }
        SipVoicemailEndpoint endpoint = new SipVoicemailEndpoint(uri, this, remaining);
        setProperties(endpoint, parameters);
        return endpoint;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        trunk.start();
    }

    @Override
    protected void doStop() throws Exception {
        trunk.stop();
        super.doStop();
    }
}
