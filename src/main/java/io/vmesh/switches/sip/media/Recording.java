package io.vmesh.switches.sip.media;

import java.time.Duration;

/**
 * What a call left: a complete WAV (G.711 mu-law, 8 kHz mono, the stored format) with lost packets as
 * silence, its length, and the RTP statistics for the logs.
 */
public record Recording(byte[] wav, Duration length, long packetsReceived, long packetsLost, long packetsFromWrongSource) {
}
