package io.vmesh.migration;

import io.vmesh.topology.Directory;

import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.builder.TemplatedRouteBuilder;

/**
 * One migration route per peer, from the route template {@code migrate-voicemail} in
 * {@code routes/}: a queue and a consumer per home server, so a home that is down holds up no
 * message for a home that is up.
 */
public final class MigrationRoutes implements StartupListener {

    private final String site;
    private final Directory directory;
    private volatile boolean added;

    public MigrationRoutes(String site, Directory directory) {
        this.site = site;
        this.directory = directory;
    }

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        // routes are added once the template is loaded: see onCamelContextFullyStarted
    }

    @Override
    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
        for (Directory.Server peer : directory.servers()) {
            if (!peer.id().equals(site) && context.getRoute("migrate-to-" + peer.id()) == null) {
                TemplatedRouteBuilder.builder(context, "migrate-voicemail")
                        .routeId("migrate-to-" + peer.id())
                        .parameter("home", peer.id())
                        .add();
            }
        }
        added = true;
    }

    /**
     * Whether the routes are there. They are added after the context has started (the YAML template
     * is loaded by then), so for a moment the server is started without them, and their consumers'
     * health checks do not exist yet: readiness waits for this, so it never turns UP, then DOWN.
     */
    public boolean added() {
        return added;
    }
}
