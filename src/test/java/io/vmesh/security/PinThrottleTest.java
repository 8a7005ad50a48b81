package io.vmesh.security;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Who counts as one client when PIN failures are counted, and that a flood of distinct clients or
 * mailboxes cannot make the throttle hold more than its cap. (The throttle through the real routes:
 * {@code PinGuessingTest}.)
 */
class PinThrottleTest {

    private static String client(String address) throws Exception {
        return PinThrottle.clientOf(new InetSocketAddress(InetAddress.getByName(address), 40000));
    }

    @Test
    void anIpv6Slash64IsOneClientAndAnIpv4AddressIsOne() throws Exception {
        assertThat(client("2001:db8:1:2::1")).isEqualTo(client("2001:db8:1:2:ffff:ffff:ffff:fffe"))
                .isNotEqualTo(client("2001:db8:1:3::1"));
        assertThat(client("192.0.2.1")).isNotEqualTo(client("192.0.2.2"));
        assertThat(client("::ffff:192.0.2.1")).as("IPv4 mapped into IPv6 is the IPv4 client").isEqualTo(client("192.0.2.1"));

        PinThrottle throttle = new PinThrottle(3, 1000, Duration.ofSeconds(60));
        for (int host = 1; host <= 3; host++) {
            throttle.reserve(client("2001:db8:1:2::" + host), "1700"); // three wrong PINs from three addresses
        }
        assertThatThrownBy(() -> throttle.reserve(client("2001:db8:1:2:abcd::1"), "1701"))
                .as("a fourth address of the same /64 has no fresh budget")
                .isInstanceOfSatisfying(PinThrottle.Throttled.class, throttled -> assertThat(throttled.byClient()).isTrue());
        throttle.reserve(client("2001:db8:1:3::1"), "1701"); // another /64: another client
    }

    @Test
    void aFloodOfDistinctClientsAndMailboxesHoldsAtMostTheCapAndKeepsTheActiveGuesserThrottled() throws Exception {
        int maxKeys = 1000;
        PinThrottle throttle = new PinThrottle(5, 5, Duration.ofSeconds(60), maxKeys);
        String guesser = client("2001:db8:ffff:1::1");
        for (int i = 0; i < 5; i++) {
            throttle.reserve(guesser, "1700");
        }
        for (int i = 0; i < 200 * maxKeys; i++) {
            String address = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            PinThrottle.Reservation wrong = throttle.reserve(client(address), "m" + i);
            if (i % 2 == 0) {
                throttle.succeeded(wrong); // and a known owner
            }
            if (i % 100 == 0) {
                assertThatThrownBy(() -> throttle.reserve(guesser, "1701")).as("still guessing, still counted")
                        .isInstanceOf(PinThrottle.Throttled.class);
            }
        }
        assertThat(throttle.heldKeys()).as("clients, mailboxes and known owners, at most the cap each").isLessThanOrEqualTo(3 * maxKeys);
    }
}
