package io.vmesh;

import java.io.IOException;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * Finds the spooled messages a crash left unfinished: those homed here (not yet moved into the
 * mailbox) and those homed elsewhere whose id is not on their home's migration queue.
 */
public final class SpoolRecovery {

    private final String site;
    private final VoicemailStore store;
    private final Directory directory;
    private final String brokerUrl;
    private final String queuePrefix;

    public SpoolRecovery(String site, VoicemailStore store, Directory directory, String brokerUrl, String queuePrefix) {
        this.site = site;
        this.store = store;
        this.directory = directory;
        this.brokerUrl = brokerUrl;
        this.queuePrefix = queuePrefix;
    }

    public List<VoicemailMessage> unfinished() throws IOException, JMSException {
        List<VoicemailMessage> spooled = store.spooledMessages();
        if (spooled.isEmpty()) {
            return spooled;
        }
        Set<String> queued = queuedMessageIds();
        return spooled.stream().filter(m -> !queued.contains(m.id())).toList();
    }

    /** The ids on every peer's migration queue, read with a browser: nothing is consumed. */
    private Set<String> queuedMessageIds() throws JMSException {
        Set<String> ids = new HashSet<>();
        try (Connection connection = new ActiveMQConnectionFactory(brokerUrl).createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            for (Directory.Server peer : directory.servers()) {
                if (peer.id().equals(site)) {
                    continue;
                }
                QueueBrowser browser = session.createBrowser(session.createQueue(queuePrefix + peer.id()));
                Enumeration<?> messages = browser.getEnumeration();
                while (messages.hasMoreElements()) {
                    String id = ((Message) messages.nextElement()).getStringProperty("vmeshMessageId");
                    if (id != null) {
                        ids.add(id);
                    }
                }
                browser.close();
            }
        }
        return ids;
    }
}
