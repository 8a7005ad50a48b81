package io.vmesh.migration;

import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultMessage;

/**
 * A migration queue entry as the migration route takes it: the id of a spooled message (header
 * {@code vmeshMessageId}), nothing else. The route goes on with a plain, empty message holding that
 * id as the variable {@code messageId}; the JMS transaction stays open until the route ends.
 *
 * <p>Why not keep the JMS message: Camel copies the exchange before every step that can be retried,
 * and each copy of a JMS message builds a new Camel JMS message around it. That was 14% of the
 * sender's CPU in a drain of 10,000 messages (docs/performance.md).
 */
public final class QueueEntry {

    public static final String MESSAGE_ID = "vmeshMessageId";

    private QueueEntry() {
    }

    public static void take(Exchange exchange) {
        exchange.setVariable("messageId", exchange.getMessage().getHeader(MESSAGE_ID, String.class));
        exchange.setIn(new DefaultMessage(exchange));
    }
}
