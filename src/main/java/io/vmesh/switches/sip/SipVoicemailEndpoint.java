package io.vmesh.switches.sip;

import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/** {@code sip-voicemail:calls} (consumer: finished recordings) or {@code sip-voicemail:message-summary} (producer: NOTIFYs). */
public final class SipVoicemailEndpoint extends DefaultEndpoint {

    static final String CALLS = "calls";
    static final String MESSAGE_SUMMARY = "message-summary";

    private final String kind;

    SipVoicemailEndpoint(String uri, SipVoicemailComponent component, String kind) {
        super(uri, component);
        this.kind = kind;
    }

    @Override
    public SipVoicemailComponent getComponent() {
        return (SipVoicemailComponent) super.getComponent();
    }

    @Override
    public Producer createProducer() {
        if (!MESSAGE_SUMMARY.equals(kind)) {
            throw new IllegalArgumentException("only sip-voicemail:message-summary can be sent to");
        }
        return new SipVoicemailProducer(this);
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        if (!CALLS.equals(kind)) {
            throw new IllegalArgumentException("only sip-voicemail:calls can be consumed");
        }
        SipVoicemailConsumer consumer = new SipVoicemailConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    public boolean isSingleton() {
        return true;
    }
}
