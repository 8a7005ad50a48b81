package io.vmesh.switches.sip.media;

import java.net.InetAddress;
import java.time.Duration;

/**
 * Where and how long vmesh takes a caller's audio: the local address and the UDP port range RTP is
 * bound in (one even port per call, RFC 3550 §11), the longest message, and the silence that ends one.
 */
public record MediaSettings(InetAddress bindAddress, int firstPort, int lastPort, Duration maxLength, Duration silenceTimeout) {

    public MediaSettings {
        if (firstPort < 1024 || lastPort > 65535 || lastPort < firstPort + 1) {
            throw new IllegalArgumentException("the RTP port range " + firstPort + "-" + lastPort
                    + " must lie within 1024-65535 and hold at least one even/odd pair");
        }
        if (maxLength.isNegative() || maxLength.isZero() || silenceTimeout.isNegative() || silenceTimeout.isZero()) {
            throw new IllegalArgumentException("the maximum length and the silence timeout must be positive");
        }
    }

    /** How many calls the range can carry at once: an even port for RTP, the odd one left for RTCP. */
    public int capacity() {
        int firstEven = firstPort % 2 == 0 ? firstPort : firstPort + 1;
        return lastPort < firstEven + 1 ? 0 : (lastPort - firstEven + 1) / 2;
    }
}
