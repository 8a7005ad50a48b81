package io.vmesh.migration;

import io.vmesh.migration.PeerBatch.Outcome;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;

/**
 * The answers of a batch's messages ({@code each-message-alone} of {@code receive-migration-batch}):
 * what {@code receive-migration} answered each one, whether it stored it or refused it, collected as
 * the list of their {@link Outcome}s. A message refused is an answer like any other here: the route
 * that refused it has handled it, and the batch goes on to answer them all.
 */
public final class BatchOutcomes implements AggregationStrategy {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange collected, Exchange answered) {
        if (collected == null) {
            // a fresh exchange, not the first message's: its route's "handled, stop here" must not end the batch's route
            collected = new DefaultExchange(answered.getContext());
            collected.getMessage().setBody(new ArrayList<Outcome>());
        }
        collected.getMessage().getBody(List.class).add(outcomeOf(answered));
        return collected;
    }

    static Outcome outcomeOf(Exchange answered) {
        String id = answered.getVariable("batchMessageId", String.class);
        Integer status = answered.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        if (answered.getException() != null || status == null) {
            return new Outcome(id, 503, "the home failed to receive it");
        }
        String error = null;
        if (status >= 300) {
            String answer = answered.getMessage().getBody(String.class);
            try {
                JsonNode node = JSON.readTree(answer);
                error = node != null && node.hasNonNull("error") ? node.get("error").asText() : answer;
            } catch (Exception notJson) {
                error = answer;
            }
        }
        return new Outcome(id, status, error);
    }
}
