package io.vmesh.migration;

import java.nio.file.Path;

import org.apache.activemq.broker.BrokerService;
import org.apache.activemq.broker.region.policy.PolicyEntry;
import org.apache.activemq.broker.region.policy.PolicyMap;
import org.apache.activemq.store.kahadb.KahaDBPersistenceAdapter;

/**
 * The site's own ActiveMQ Classic broker, persistent in KahaDB under the data directory. Started
 * only when {@code vmesh.broker.url} is a {@code vm://} URL; any other URL names an external broker.
 */
public final class EmbeddedBroker {

    private final BrokerService broker;

    public EmbeddedBroker(String brokerName, Path directory) {
        KahaDBPersistenceAdapter kahaDb = new KahaDBPersistenceAdapter();
        kahaDb.setDirectory(directory.resolve("kahadb").toFile());
        kahaDb.setJournalDiskSyncStrategy("always"); // a message on the queue survives a power cut
        broker = new BrokerService();
        broker.setBrokerName(brokerName);
        broker.setDataDirectoryFile(directory.toFile());
        broker.setPersistent(true);
        broker.setUseShutdownHook(false); // Camel stops it, after the routes that use it
        broker.setUseJmx(true);           // queue depths visible in Hawtio through Jolokia
        broker.getManagementContext().setCreateConnector(false);
        broker.setAdvisorySupport(false);
        // A backlog waits in KahaDB, not in the heap: by default the queue's cursor also keeps every
        // pending message in memory (about 5 KB each: 10,000 waiting for a home took 70 MB of a 256 MB
        // heap, 100,000 exhausted it). Without the cache, entries are paged in from the store, a page
        // of 200 at a time, as the consumers ask for them.
        PolicyEntry queues = new PolicyEntry();
        queues.setQueue(">");
        queues.setUseCache(false);
        PolicyMap policies = new PolicyMap();
        policies.setPolicyEntries(java.util.List.of(queues));
        broker.setDestinationPolicy(policies);
        kahaDb.setIndexCacheSize(2_000); // index pages kept in memory (4 KB each; the default is 10,000)
        try {
            broker.setPersistenceAdapter(kahaDb);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot use KahaDB in " + directory, e);
        }
    }

    /** The broker name a {@code vm://NAME?create=false} URL refers to, or null for another URL. */
    public static String nameInVmUrl(String brokerUrl) {
        if (brokerUrl == null || !brokerUrl.startsWith("vm://")) {
            return null;
        }
        String rest = brokerUrl.substring("vm://".length());
        int query = rest.indexOf('?');
        return query < 0 ? rest : rest.substring(0, query);
    }

    public synchronized void start() throws Exception {
        if (broker.isStarted()) {
            return;
        }
        broker.start();
        broker.waitUntilStarted();
    }

    public void stop() throws Exception {
        broker.stop();
        broker.waitUntilStopped();
    }

    /**
     * The queues whose name starts with {@code prefix} and that hold entries, by the rest of their
     * name (a migration queue's home server): at start-up, the homes that need their consumers.
     */
    public java.util.Set<String> queuesWithEntries(String prefix) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try {
            broker.getRegionBroker().getDestinationMap().forEach((destination, queue) -> {
                if (destination.isQueue() && destination.getPhysicalName().startsWith(prefix)
                        && queue.getDestinationStatistics().getMessages().getCount() > 0) {
                    names.add(destination.getPhysicalName().substring(prefix.length()));
                }
            });
        } catch (Exception e) {
            throw new IllegalStateException("cannot list the broker's queues: " + e.getMessage(), e);
        }
        return names;
    }

    public boolean isRunning() {
        return broker.isStarted() && !broker.isStopping();
    }
}
