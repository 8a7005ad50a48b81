package io.vmesh.switches.sip;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Vector;

import javax.sdp.Attribute;
import javax.sdp.Connection;
import javax.sdp.MediaDescription;
import javax.sdp.SdpException;
import javax.sdp.SdpFactory;
import javax.sdp.SessionDescription;

/**
 * The offer/answer of a call's audio (RFC 3264), on the NIST SDP classes: the first audio stream of
 * the offer, the first of its formats that is G.711 (0 PCMU or 8 PCMA, in the offer's order of
 * preference), RFC 4733 telephone-event if offered; the answer names vmesh's RTP port.
 */
public final class SdpNegotiation {

    /** What the offer and vmesh agree on. {@code telephoneEvent} is -1 when the offer has none. */
    public record Agreed(InetSocketAddress remoteRtp, int payloadType, int telephoneEvent) {
        public String codec() {
            return payloadType == 0 ? "PCMU" : "PCMA";
        }
    }

    /** The offer cannot be answered: a 488, with the reason in a Warning. */
    public static final class NotAcceptable extends Exception {
        public NotAcceptable(String message) {
            super(message, null, false, false);
        }
    }

    private SdpNegotiation() {
    }

    public static Agreed agree(byte[] offerBody) throws NotAcceptable {
        if (offerBody == null || offerBody.length == 0) {
            throw new NotAcceptable("the INVITE carries no SDP offer (vmesh needs an early offer)");
        }
        try {
            SessionDescription offer = SdpFactory.getInstance().createSessionDescription(new String(offerBody, StandardCharsets.UTF_8));
            Vector<?> media = offer.getMediaDescriptions(false);
            if (media != null) {
                for (Object each : media) {
                    MediaDescription m = (MediaDescription) each;
                    if (!"audio".equalsIgnoreCase(m.getMedia().getMediaType()) || m.getMedia().getMediaPort() == 0
                            || !m.getMedia().getProtocol().toUpperCase().startsWith("RTP/AVP")) {
                        continue;
                    }
                    int codec = -1;
                    for (Object format : m.getMedia().getMediaFormats(false)) {
                        int pt = payloadType(String.valueOf(format));
                        if (pt == 0 || pt == 8) {
                            codec = pt;
                            break;
                        }
                    }
                    if (codec < 0) {
                        continue;
                    }
                    Connection c = m.getConnection() != null ? m.getConnection() : offer.getConnection();
                    if (c == null) {
                        throw new NotAcceptable("the SDP offer has no connection address");
                    }
                    InetAddress address = InetAddress.getByName(c.getAddress()); // an IP literal in practice
                    return new Agreed(new InetSocketAddress(address, m.getMedia().getMediaPort()), codec, telephoneEvent(m));
                }
            }
            throw new NotAcceptable("the SDP offer has no G.711 audio (PCMU or PCMA)");
        } catch (SdpException | UnknownHostException | RuntimeException e) {
            throw new NotAcceptable("the SDP offer cannot be read: " + e.getMessage());
        }
    }

    /** The answer: vmesh's address and port, the agreed codec, telephone-event if agreed. */
    public static String answer(Agreed agreed, String localAddress, int localPort, long sessionId) throws SdpException {
        SdpFactory sdp = SdpFactory.getInstance();
        SessionDescription answer = sdp.createSessionDescription();
        answer.setOrigin(sdp.createOrigin("vmesh", sessionId, sessionId, "IN", "IP4", localAddress));
        answer.setSessionName(sdp.createSessionName("vmesh voicemail"));
        answer.setConnection(sdp.createConnection("IN", "IP4", localAddress));
        boolean events = agreed.telephoneEvent() >= 0;
        int[] formats = events ? new int[]{agreed.payloadType(), agreed.telephoneEvent()} : new int[]{agreed.payloadType()};
        MediaDescription audio = sdp.createMediaDescription("audio", localPort, 1, "RTP/AVP", formats);
        audio.addAttribute(attribute(sdp, "rtpmap", agreed.payloadType() + " " + agreed.codec() + "/8000"));
        if (events) {
            audio.addAttribute(attribute(sdp, "rtpmap", agreed.telephoneEvent() + " telephone-event/8000"));
            audio.addAttribute(attribute(sdp, "fmtp", agreed.telephoneEvent() + " 0-16"));
        }
        audio.addAttribute(attribute(sdp, "ptime", "20"));
        audio.addAttribute(attribute(sdp, "sendrecv", null));
        Vector<MediaDescription> media = new Vector<>(List.of(audio));
        answer.setMediaDescriptions(media);
        return answer.toString();
    }

    private static gov.nist.javax.sdp.fields.AttributeField attribute(SdpFactory sdp, String name, String value) {
        return (gov.nist.javax.sdp.fields.AttributeField) sdp.createAttribute(name, value); // the NIST classes' own type
    }

    private static int telephoneEvent(MediaDescription m) throws SdpException {
        List<Integer> offered = new ArrayList<>();
        for (Object format : m.getMedia().getMediaFormats(false)) {
            offered.add(payloadType(String.valueOf(format)));
        }
        Vector<?> attributes = m.getAttributes(false);
        if (attributes == null) {
            return -1;
        }
        for (Object each : attributes) {
            Attribute a = (Attribute) each;
            // rtpmap value: "<payload type> <encoding name>/<clock rate>[/<channels>]" (RFC 4566 §6)
            if ("rtpmap".equalsIgnoreCase(a.getName()) && a.getValue() != null) {
                String[] parts = a.getValue().trim().split("\\s+", 2);
                int pt = payloadType(parts[0]);
                if (parts.length == 2 && parts[1].toLowerCase().startsWith("telephone-event/8000") && offered.contains(pt)) {
                    return pt;
                }
            }
        }
        return -1;
    }

    private static int payloadType(String text) {
        try {
            int pt = Integer.parseInt(text.trim());
            return pt >= 0 && pt <= 127 ? pt : -2;
        } catch (NumberFormatException e) {
            return -2;
        }
    }
}
