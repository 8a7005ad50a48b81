package io.vmesh.switches.sip;

import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultProducer;

/** Tells the message-summary subscribers of the mailbox in header {@code ext} its new counts. */
final class SipVoicemailProducer extends DefaultProducer {

    SipVoicemailProducer(SipVoicemailEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    public void process(Exchange exchange) {
        String extension = exchange.getMessage().getHeader("ext", String.class);
        if (extension == null || extension.isEmpty()) {
            throw new IllegalArgumentException("sip-voicemail:message-summary needs the mailbox in header 'ext'");
        }
        ((SipVoicemailEndpoint) getEndpoint()).getComponent().trunk().summaries().changed(extension);
    }
}
