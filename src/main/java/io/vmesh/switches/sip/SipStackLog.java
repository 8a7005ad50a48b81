package io.vmesh.switches.sip;

import java.util.Properties;

import gov.nist.core.StackLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JAIN-SIP's stack log, into vmesh's log (logger {@code io.vmesh.switches.sip.SipStackLog}) instead of
 * the log4j 1 files the stack writes by default. Named in the stack property
 * {@code gov.nist.javax.sip.STACK_LOGGER}; the stack instantiates it. Its warnings and errors are
 * cut to one short printable line each.
 */
public final class SipStackLog implements StackLogger {

    private static final Logger LOG = LoggerFactory.getLogger(SipStackLog.class);
    private static final int MAX_CHARS = 300;

    @Override public void logStackTrace() { }
    @Override public void logStackTrace(int traceLevel) { }
    @Override public int getLineCount() { return 0; }
    @Override public void logException(Throwable ex) { LOG.warn("SIP stack: {}", brief(ex)); }
    @Override public void logDebug(String message) { LOG.debug(message); }
    @Override public void logDebug(String message, Exception ex) { LOG.debug(message, ex); }
    @Override public void logTrace(String message) { LOG.trace(message); }
    @Override public void logFatalError(String message) { LOG.error("SIP stack: {}", brief(message)); }
    @Override public void logError(String message) { LOG.warn("SIP stack: {}", brief(message)); }
    @Override public void logError(String message, Exception ex) { LOG.warn("SIP stack: {}: {}", brief(message), brief(ex)); }
    @Override public void logWarning(String message) { LOG.debug("SIP stack: {}", message); } // its start-up chatter (TLS defaults)
    @Override public void logInfo(String message) { LOG.debug(message); }
    @Override public void disableLogging() { }
    @Override public void enableLogging() { }
    @Override public void setBuildTimeStamp(String buildTimeStamp) { }
    @Override public void setStackProperties(Properties stackProperties) { }
    @Override public String getLoggerName() { return LOG.getName(); }

    /**
     * What the stack says, cut to one short printable line: its messages can carry a whole packet
     * (a 64 KB datagram as a list of byte values), which a flood would otherwise copy into the log.
     */
    static String brief(Object said) {
        String text = String.valueOf(said);
        String cut = text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) + "... (" + text.length() + " characters)" : text;
        StringBuilder line = new StringBuilder(cut.length());
        cut.codePoints().forEach(c -> line.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : "?"));
        return line.toString();
    }

    @Override
    public boolean isLoggingEnabled() {
        return LOG.isWarnEnabled();
    }

    @Override
    public boolean isLoggingEnabled(int logLevel) {
        return switch (logLevel) {
            // the stack logs every message at TRACE_INFO: that is debug here
            case TRACE_DEBUG, TRACE_TRACE, TRACE_INFO -> LOG.isDebugEnabled();
            default -> LOG.isWarnEnabled();
        };
    }
}
