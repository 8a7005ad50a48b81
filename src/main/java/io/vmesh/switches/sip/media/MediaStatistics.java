package io.vmesh.switches.sip.media;

/**
 * One call's RTP counts, for the logs and the benchmark. {@code received}: packets of the negotiated
 * source taken in; {@code lost}: sequence numbers never played (recorded as silence);
 * {@code duplicates} and {@code late} (arrived after their place was given up) are dropped;
 * {@code wrongSource}: packets from any other address, dropped; {@code malformed}: not RTP or of a
 * payload type not negotiated; {@code sent} and {@code sendsDropped}: vmesh's own packets (prompt,
 * then silence to keep the call's media alive); {@code sendsSkipped}: packets of vmesh's own not sent
 * because its clock was held up (a server short of CPU), the prompt resuming where it was.
 */
public record MediaStatistics(long received, long lost, long duplicates, long late, long wrongSource,
                              long malformed, long sent, long sendsDropped, long sendsSkipped) {

    @Override
    public String toString() {
        return "rtp received=" + received + " lost=" + lost + " duplicates=" + duplicates + " late=" + late
                + " wrongSource=" + wrongSource + " malformed=" + malformed + " sent=" + sent + " sendsDropped=" + sendsDropped
                + " sendsSkipped=" + sendsSkipped;
    }
}
