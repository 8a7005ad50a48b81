package io.vmesh.switches.sip;

import javax.sip.SipFactory;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What vmesh reads from a PBX's INVITE: mailbox, state, caller and callId, as the PBXs send them. */
class DivertedCallTest {

    private static Request invite(String requestUser, String... headers) throws Exception {
        MessageFactory messages = SipFactory.getInstance().createMessageFactory();
        String text = "INVITE sip:" + requestUser + "@10.0.0.5:5071 SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
                + "From: \"Alice\" <sip:5550123@pbx.example.com>;tag=a1\r\n"
                + "To: <sip:" + requestUser + "@10.0.0.5>\r\n"
                + "Call-ID: 3848276298220188511@pbx.example.com\r\n"
                + "CSeq: 1 INVITE\r\n"
                + "Max-Forwards: 70\r\n"
                + String.join("", java.util.Arrays.stream(headers).map(h -> h + "\r\n").toList())
                + "Content-Length: 0\r\n\r\n";
        return messages.createRequest(text);
    }

    @ParameterizedTest
    @CsvSource({"no-answer,NO_ANSWER", "user-busy,BUSY", "unconditional,FORWARD_ALL", "do-not-disturb,DND",
            "\"user-busy\",BUSY", "time-of-day,NO_ANSWER"})
    void diversionNamesTheMailboxAndItsReasonTheState(String reason, String state) throws Exception {
        DivertedCall call = DivertedCall.of(invite("vm", "Diversion: <sip:1001@pbx.example.com>;reason=" + reason + ";counter=1"));

        assertThat(call.to()).isEqualTo("1001");
        assertThat(call.state()).isEqualTo(state);
    }

    @Test
    void theFirstDiversionEntryIsTheExtensionThatDidNotAnswer() throws Exception {
        DivertedCall call = DivertedCall.of(invite("vm",
                "Diversion: <sip:1002@pbx>;reason=user-busy, <sip:1001@pbx>;reason=unconditional",
                "Diversion: <sip:1000@pbx>;reason=no-answer"));

        assertThat(call.to()).isEqualTo("1002");
        assertThat(call.state()).isEqualTo("BUSY");
    }

    @Test
    void withoutDiversionHistoryInfoNamesTheMailboxAndItsCauseTheState() throws Exception {
        DivertedCall call = DivertedCall.of(invite("vm",
                "History-Info: <sip:1003@pbx?Reason=SIP%3Bcause%3D486>;index=1, <sip:vm@10.0.0.5:5071>;index=1.1"));

        assertThat(call.to()).isEqualTo("1003");
        assertThat(call.state()).isEqualTo("BUSY");
    }

    @Test
    void withNeitherTheRequestUriNamesTheMailboxAndTheStateIsNoAnswer() throws Exception {
        DivertedCall call = DivertedCall.of(invite("1004"));

        assertThat(call.to()).isEqualTo("1004");
        assertThat(call.state()).isEqualTo("NO_ANSWER");
        assertThat(call.from()).isEqualTo("5550123");
        assertThat(call.callId()).isEqualTo("3848276298220188511@pbx.example.com");
    }

    @Test
    void pAssertedIdentityIsTheCallerOverFrom() throws Exception {
        DivertedCall call = DivertedCall.of(invite("1005", "P-Asserted-Identity: <tel:+15551230000>"));

        assertThat(call.from()).isEqualTo("+15551230000");
    }

    @Test
    void callIdIsMadeToFitTheIntakesRules() {
        assertThat(DivertedCall.callId("a b/c{d}@host")).isEqualTo("a-b-c-d-@host");
        String longId = "x".repeat(300);
        assertThat(DivertedCall.callId(longId)).hasSize(128).matches("[A-Za-z0-9._@:-]+");
        assertThat(DivertedCall.callId(longId)).isNotEqualTo(DivertedCall.callId("x".repeat(301)));
    }

    @Test
    void aDiversionHeaderThatIsNoAddressIsRefused() throws Exception {
        Request request = invite("vm", "Diversion: <<<sip:1001@pbx>;;reason=");

        assertThatThrownBy(() -> DivertedCall.of(request)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Diversion");
    }
}
