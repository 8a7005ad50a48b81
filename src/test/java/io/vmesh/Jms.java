package io.vmesh;

import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.ActiveMQConnectionFactory;

/** Looks at a site's broker the way another application would: browsing queues, subscribing to topics. */
final class Jms {

    private Jms() {
    }

    /** The message ids on a queue, without consuming them. */
    static List<String> queuedMessageIds(String brokerUrl, String queue) throws JMSException {
        List<String> ids = new ArrayList<>();
        try (Connection c = new ActiveMQConnectionFactory(brokerUrl).createConnection()) {
            c.start();
            Session session = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            QueueBrowser browser = session.createBrowser(session.createQueue(queue));
            Enumeration<?> e = browser.getEnumeration();
            while (e.hasMoreElements()) {
                ids.add(((Message) e.nextElement()).getStringProperty("vmeshMessageId"));
            }
        }
        return ids;
    }

    /** A live subscription to a topic; texts of what arrives collect in {@link #received}. */
    static final class Subscription implements AutoCloseable {
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        private final Connection connection;

        Subscription(String brokerUrl, String topic) throws JMSException {
            connection = new ActiveMQConnectionFactory(brokerUrl).createConnection();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = session.createConsumer(session.createTopic(topic));
            consumer.setMessageListener(m -> {
                try {
                    received.add(m instanceof TextMessage t ? t.getText()
                            : new String(m.getBody(byte[].class), java.nio.charset.StandardCharsets.UTF_8));
                } catch (JMSException ex) {
                    received.add("unreadable: " + ex);
                }
            });
            connection.start();
        }

        @Override
        public void close() throws JMSException {
            connection.close();
        }
    }
}
