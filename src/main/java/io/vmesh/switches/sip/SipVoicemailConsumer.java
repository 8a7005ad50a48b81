package io.vmesh.switches.sip;

import io.vmesh.RejectedRequest;
import io.vmesh.switches.sip.media.PartialRecordings;
import io.vmesh.switches.sip.media.Recording;

import java.nio.file.Files;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExtendedStartupListener;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each finished recording as an exchange shaped like the HTTP intake's: headers switchId, callId,
 * from, to, state, the WAV as body, and the variable recording (the call's key on disk, from which
 * the route makes the message id: a recording made again after a crash is not stored twice). The route's outcome decides the caller's answer: a message
 * (variables messageId and delivery set) is STORED; a {@link RejectedRequest} is REFUSED (nothing
 * kept); any other failure is FAILED and the recording stays on disk. Once the routes run, the
 * recordings a crash interrupted go the same way.
 */
final class SipVoicemailConsumer extends DefaultConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(SipVoicemailConsumer.class);

    SipVoicemailConsumer(SipVoicemailEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    private SipTrunk trunk() {
        return ((SipVoicemailEndpoint) getEndpoint()).getComponent().trunk();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        getEndpoint().getCamelContext().addStartupListener(new ExtendedStartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                recoverInterruptedCalls();
                trunk().setRecordingHandler(SipVoicemailConsumer.this::deliver);
            }
        });
    }

    @Override
    protected void doStop() throws Exception {
        trunk().setRecordingHandler(null);
        super.doStop();
    }

    SipTrunk.Outcome deliver(PartialCalls.Call call, byte[] wav) {
        Exchange exchange = createExchange(false);
        try {
            Message in = exchange.getIn();
            in.setHeader("switchId", call.switchId());
            in.setHeader("callId", call.callId());
            in.setHeader("from", call.from());
            in.setHeader("to", call.to());
            in.setHeader("state", call.state());
            in.setHeader(Exchange.CONTENT_TYPE, "audio/wav");
            in.setBody(wav);
            exchange.setVariable("recording", call.key());
            try {
                getProcessor().process(exchange);
            } catch (Exception e) {
                exchange.setException(e);
            }
            Exception failure = exchange.getException() != null ? exchange.getException()
                    : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
            if (failure == null) {
                boolean stored = exchange.getVariable("messageId") != null && exchange.getVariable("delivery") != null;
                return stored ? SipTrunk.Outcome.STORED : SipTrunk.Outcome.REFUSED;
            }
            return RejectedRequest.find(failure) != null ? SipTrunk.Outcome.REFUSED : SipTrunk.Outcome.FAILED;
        } finally {
            releaseExchange(exchange, false);
        }
    }

    /** Calls a crash (or a stop mid-call) left: their recordings become messages now; one that fails stays for the next start. */
    private void recoverInterruptedCalls() {
        PartialCalls partial = trunk().partialCalls();
        java.util.List<PartialCalls.Call> interrupted;
        try {
            interrupted = partial.interrupted();
        } catch (Exception e) {
            LOG.error("Cannot read the interrupted SIP calls in {}: {}", partial.audioOf("x").getParent(), e.toString());
            return;
        }
        for (PartialCalls.Call call : interrupted) {
            try {
                if (!Files.exists(partial.audioOf(call.key()))) {
                    LOG.warn("SIP call {} was interrupted before any audio arrived; nothing to recover", call.callId());
                    partial.end(call.key());
                    continue;
                }
                Recording recording = PartialRecordings.recover(partial.audioOf(call.key()));
                LOG.info("Recovering SIP call {} for {} interrupted by a stop: {} ms recorded", call.callId(), call.to(),
                        recording.length().toMillis());
                if (deliver(call, recording.wav()) != SipTrunk.Outcome.FAILED) {
                    partial.end(call.key());
                }
            } catch (Exception e) {
                LOG.error("Recovering SIP call {} failed; it stays in {} for the next start: {}", call.callId(),
                        partial.audioOf(call.key()), e.toString());
            }
        }
    }
}
