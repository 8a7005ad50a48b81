package io.vmesh.switches.sip;

import java.util.Properties;

import gov.nist.core.ServerLogger;
import gov.nist.javax.sip.message.SIPMessage;
import javax.sip.SipStack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every SIP message in and out, at debug level of logger {@code io.vmesh.switches.sip.SipMessageLog}
 * (the first line only: bodies and credentials stay out of the log). Named in the stack property
 * {@code gov.nist.javax.sip.SERVER_LOGGER}.
 */
public final class SipMessageLog implements ServerLogger {

    private static final Logger LOG = LoggerFactory.getLogger(SipMessageLog.class);

    @Override
    public void logMessage(SIPMessage message, String from, String to, boolean sender, long time) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} {} -> {}: {}", sender ? "sent" : "received", from, to, message.getFirstLine().trim());
        }
    }

    @Override
    public void logMessage(SIPMessage message, String from, String to, String status, boolean sender, long time) {
        logMessage(message, from, to, sender, time);
    }

    @Override
    public void logMessage(SIPMessage message, String from, String to, String status, boolean sender) {
        logMessage(message, from, to, sender, 0);
    }

    @Override
    public void logException(Exception ex) {
        LOG.debug("SIP message error: {}", String.valueOf(ex));
    }

    @Override public void closeLogFile() { }
    @Override public void setStackProperties(Properties stackProperties) { }
    @Override public void setSipStack(SipStack sipStack) { }
}
