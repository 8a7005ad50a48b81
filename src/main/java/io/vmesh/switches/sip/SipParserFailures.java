package io.vmesh.switches.sip;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JAIN-SIP reads each TCP connection on a thread of its own ("PipelineThread-n") that ends with an
 * exception when the peer breaks a limit (a Content-Length above {@code vmesh.sip.max-message-bytes});
 * the connection is closed then. That exception is one line in vmesh's log, not a stack trace on the
 * console. Other threads' uncaught exceptions go to the handler that was there before.
 */
final class SipParserFailures implements Thread.UncaughtExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SipParserFailures.class);

    private final Thread.UncaughtExceptionHandler before;

    private SipParserFailures(Thread.UncaughtExceptionHandler before) {
        this.before = before;
    }

    /** Installs the handler for the whole JVM, once. */
    static synchronized void install() {
        Thread.UncaughtExceptionHandler current = Thread.getDefaultUncaughtExceptionHandler();
        if (!(current instanceof SipParserFailures)) {
            Thread.setDefaultUncaughtExceptionHandler(new SipParserFailures(current));
        }
    }

    @Override
    public void uncaughtException(Thread thread, Throwable failure) {
        if (thread.getName().startsWith("PipelineThread-")) {
            LOG.warn("SIP over TCP: a peer's message was refused and its connection closed: {}", failure.getMessage());
        } else if (before != null) {
            before.uncaughtException(thread, failure);
        } else { // what the JVM does without a handler
            System.err.print("Exception in thread \"" + thread.getName() + "\" ");
            failure.printStackTrace(System.err);
        }
    }
}
