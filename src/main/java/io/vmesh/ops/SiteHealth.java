package io.vmesh.ops;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;

/** {@code GET /health} on the data port: Camel's readiness checks, answered as 200 or 503. */
public final class SiteHealth {

    private final String site;

    public SiteHealth(String site) {
        this.site = site;
    }

    public Map<String, Object> check(Exchange exchange) {
        CamelContext context = exchange.getContext();
        Collection<HealthCheck.Result> results = HealthCheckHelper.invokeReadiness(context);
        Map<String, Object> down = new LinkedHashMap<>();
        for (HealthCheck.Result r : results) {
            if (r.getState() == HealthCheck.State.DOWN) {
                down.put(r.getCheck().getId(), r.getMessage().orElse("down"));
            }
        }
        boolean up = context.isStarted() && down.isEmpty();
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, up ? 200 : 503);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("site", site);
        if (!down.isEmpty()) {
            body.put("down", down);
        }
        return body;
    }
}
