package io.vmesh.switches.sip;

import io.vmesh.switches.sip.media.EndReason;
import io.vmesh.switches.sip.media.MediaSession;
import io.vmesh.switches.sip.media.Recording;

import java.util.concurrent.CompletableFuture;

import javax.sip.Dialog;
import javax.sip.RequestEvent;
import javax.sip.ServerTransaction;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call being recorded: answered, then ended by the caller's BYE or by the media side ('#', the
 * maximum length, silence). Either way the recording is finished once, handed to the routes, and only
 * when they have made it durable is the caller's BYE answered 200 (or vmesh's own BYE sent).
 */
final class VoicemailCall {

    private static final Logger LOG = LoggerFactory.getLogger(VoicemailCall.class);

    private final SipTrunk trunk;
    private final PartialCalls.Call metadata;
    private final ServerTransaction invite;
    private final MediaSession media;
    private final SdpNegotiation.Agreed agreed;
    private final CompletableFuture<SipTrunk.Outcome> done = new CompletableFuture<>();
    private String answerSdp;
    private boolean answered;
    private boolean cancelled;
    private boolean finishing;

    VoicemailCall(SipTrunk trunk, PartialCalls.Call metadata, ServerTransaction invite, MediaSession media, SdpNegotiation.Agreed agreed) {
        this.trunk = trunk;
        this.metadata = metadata;
        this.invite = invite;
        this.media = media;
        this.agreed = agreed;
    }

    /**
     * 200 with the SDP answer, then the greeting, the tone and the recording. The media starts under
     * the same lock as {@link #finish}, so a BYE right after the 200 finds it started or never started,
     * never half-way.
     */
    void answer(String sdp) throws Exception {
        synchronized (this) {
            if (cancelled) {
                return;
            }
            answerSdp = sdp;
            Response ok = trunk.response(invite.getRequest(), Response.OK);
            ok.addHeader(trunk.contact("vmesh"));
            ok.setContent(sdp, trunk.headers().createContentTypeHeader("application", "sdp"));
            invite.sendResponse(ok);
            answered = true;
            if (finishing) {
                return;
            }
            media.start(agreed.remoteRtp(), agreed.payloadType(), agreed.telephoneEvent(), trunk.prompt());
        }
        media.ended().whenComplete((reason, failure) -> {
            if (failure != null) {
                LOG.error("SIP call {}: its media failed ({}); finishing what was recorded", metadata.callId(), failure.toString());
            }
            finish(null, reason);
        });
    }

    /** A re-INVITE (a session refresh): the same answer again. */
    void reinvite(RequestEvent event) throws Exception {
        ServerTransaction transaction = event.getServerTransaction() != null ? event.getServerTransaction()
                : trunk.provider().getNewServerTransaction(event.getRequest());
        Response ok = trunk.response(event.getRequest(), Response.OK);
        ok.addHeader(trunk.contact("vmesh"));
        ok.setContent(answerSdp, trunk.headers().createContentTypeHeader("application", "sdp"));
        transaction.sendResponse(ok);
    }

    /** CANCEL before the answer: 487 to the INVITE, nothing stored. After it, the CANCEL changes nothing. */
    void cancel() throws Exception {
        synchronized (this) {
            if (answered || cancelled) {
                return;
            }
            cancelled = true;
        }
        invite.sendResponse(trunk.response(invite.getRequest(), Response.REQUEST_TERMINATED));
        media.close();
        trunk.partialCalls().end(metadata.key());
        trunk.ended(this);
        LOG.info("SIP call {} cancelled before it was answered; nothing stored", metadata.callId());
    }

    /**
     * Ends the call, once: {@code bye} is the caller's BYE (answered when the message is durable), or
     * null when vmesh ends it ({@code reason}) and sends its own BYE afterwards.
     */
    void finish(ServerTransaction bye, EndReason reason) {
        synchronized (this) {
            if (finishing) {
                if (bye != null) {
                    done.whenComplete((outcome, failure) -> answerBye(bye, outcome));
                }
                return;
            }
            finishing = true;
        }
        trunk.runFinishing(() -> {
            SipTrunk.Outcome outcome = SipTrunk.Outcome.FAILED;
            try {
                Recording recording = media.finish();
                LOG.info("SIP call {} ended by {}: {} ms, {} RTP packets, {} lost, {} from a wrong source", metadata.callId(),
                        bye != null ? "the caller's BYE" : reason, recording.length().toMillis(), recording.packetsReceived(),
                        recording.packetsLost(), recording.packetsFromWrongSource());
                outcome = trunk.deliver(metadata, recording);
            } catch (Exception e) {
                LOG.error("SIP call {}: the recording could not be finished: {}", metadata.callId(), e.toString());
            }
            try {
                if (outcome == SipTrunk.Outcome.FAILED) {
                    LOG.warn("SIP call {}: recording kept in {} for the next start", metadata.callId(), trunk.partialCalls().audioOf(metadata.key()));
                } else {
                    trunk.partialCalls().end(metadata.key());
                }
            } catch (RuntimeException e) {
                LOG.error("SIP call {}: removing its recording's files: {}", metadata.callId(), e.toString());
            } finally {
                trunk.ended(this);
                if (bye != null) {
                    answerBye(bye, outcome);
                } else {
                    sendBye();
                }
                done.complete(outcome);
            }
        });
    }

    /** The server stops: the media stops, the partial files stay for the next start. */
    void interruptForShutdown() {
        synchronized (this) {
            if (finishing) {
                return;
            }
            finishing = true;
        }
        try {
            media.finish();
        } catch (Exception e) {
            LOG.warn("SIP call {}: stopping its media: {}", metadata.callId(), e.toString());
        }
        sendBye();
    }

    private void answerBye(ServerTransaction bye, SipTrunk.Outcome outcome) {
        try {
            int status = outcome == SipTrunk.Outcome.FAILED ? Response.SERVER_INTERNAL_ERROR : Response.OK;
            bye.sendResponse(trunk.response(bye.getRequest(), status));
        } catch (Exception e) {
            LOG.debug("SIP call {}: answering BYE: {}", metadata.callId(), e.toString());
        }
    }

    private void sendBye() {
        try {
            Dialog dialog = invite.getDialog();
            if (dialog != null) {
                trunk.sendInDialog(dialog, dialog.createRequest(Request.BYE));
            }
        } catch (Exception e) {
            LOG.debug("SIP call {}: sending BYE: {}", metadata.callId(), e.toString());
        }
    }

}
