package io.vmesh.switches.sip;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * The SIP trunk's settings ({@code vmesh.sip.*} in application.properties): where it listens (the
 * {@code sip:} of this server's topology entry; absent means no SIP), the digest realm, the limits
 * that bound its memory, and the message-summary subscription lifetimes and how many may be active at once.
 */
public record SipSettings(String site, Optional<InetSocketAddress> listen, String realm, Path partialDir,
                          Path greeting, Set<String> voicemailStates, int threads, int maxMessageBytes,
                          int maxTcpConnections, Duration tcpReadTimeout, Duration nonceLifetime,
                          Duration retryAfter, Duration minSubscription, Duration maxSubscription, int maxSubscriptions) {
}
