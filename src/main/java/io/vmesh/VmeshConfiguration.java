package io.vmesh;

import io.vmesh.audio.AudioCodec;
import io.vmesh.migration.EmbeddedBroker;
import io.vmesh.migration.HomeUnavailable;
import io.vmesh.migration.MigrationBacklog;
import io.vmesh.migration.MigrationRoutes;
import io.vmesh.migration.PeerAvailability;
import io.vmesh.migration.PeerIntake;
import io.vmesh.migration.ReceivedMessageIds;
import io.vmesh.ops.Readiness;
import io.vmesh.ops.SiteHealth;
import io.vmesh.security.MailboxAccess;
import io.vmesh.security.PeerAuthentication;
import io.vmesh.security.PinThrottle;
import io.vmesh.security.RequestHeadCheck;
import io.vmesh.switches.DataPortLimits;
import io.vmesh.security.Secrets;
import io.vmesh.storage.Archive;
import io.vmesh.storage.DurableFiles;
import io.vmesh.storage.Mailboxes;
import io.vmesh.storage.Spool;
import io.vmesh.switches.CallRequests;
import io.vmesh.switches.RequestReadTimeout;
import io.vmesh.switches.sip.DigestAuthentication;
import io.vmesh.switches.sip.MessageSummaries;
import io.vmesh.switches.sip.PartialCalls;
import io.vmesh.switches.sip.Prompt;
import io.vmesh.switches.sip.SipSettings;
import io.vmesh.switches.sip.SipTrunk;
import io.vmesh.switches.sip.SipVoicemailComponent;
import io.vmesh.switches.sip.media.MediaSessions;
import io.vmesh.switches.sip.media.MediaSettings;
import io.vmesh.topology.Directory;

import java.nio.file.Path;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.camel.BindToRegistry;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.PropertyInject;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.spi.IdempotentRepository;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

/**
 * The beans the routes call by name. Everything tunable comes from {@code camel-config/application.properties}.
 */
public final class VmeshConfiguration implements CamelConfiguration {

    @PropertyInject("vmesh.site")
    private String site;
    @PropertyInject("vmesh.data-dir")
    private String dataDir;
    @PropertyInject("vmesh.topology")
    private String topology;
    @PropertyInject("vmesh.broker.url")
    private String brokerUrl;
    @PropertyInject(value = "vmesh.recording.max-seconds", defaultValue = "300")
    private int maxRecordingSeconds;
    @PropertyInject(value = "vmesh.audio.wideband", defaultValue = "true")
    private boolean storeWideband;
    @PropertyInject(value = "vmesh.audio.sox", defaultValue = "sox")
    private String soxCommand;
    @PropertyInject(value = "vmesh.data.min-free-mb", defaultValue = "100")
    private long minFreeMb;

    @PropertyInject(value = "vmesh.migration.probe-timeout-ms", defaultValue = "1000")
    private long probeTimeoutMs;
    @PropertyInject(value = "vmesh.migration.away-probe-interval", defaultValue = "250")
    private long awayProbeIntervalMs;
    @PropertyInject(value = "vmesh.migration.idle-stop-after", defaultValue = "60000")
    private long idleStopAfterMs;
    @PropertyInject(value = "vmesh.migration.batch-size", defaultValue = "8")
    private int batchSize;
    @PropertyInject(value = "vmesh.migration.request-timeout-ms", defaultValue = "30000")
    private long requestTimeoutMs;
    @PropertyInject("vmesh.migration.queue-prefix")
    private String queuePrefix;
    @PropertyInject(value = "vmesh.broker.max-connections", defaultValue = "8")
    private int maxBrokerConnections;
    @PropertyInject("vmesh.security.secrets-file")
    private String secretsFile;
    @PropertyInject(value = "vmesh.security.max-clock-skew-seconds", defaultValue = "120")
    private long maxClockSkewSeconds;
    @PropertyInject(value = "vmesh.security.mailbox.max-failures", defaultValue = "5")
    private int mailboxMaxFailures;
    @PropertyInject(value = "vmesh.security.client.max-failures", defaultValue = "20")
    private int clientMaxFailures;
    @PropertyInject(value = "vmesh.security.failure-decay-seconds", defaultValue = "60")
    private long failureDecaySeconds;

    @PropertyInject("camel.rest.host")
    private String dataHost;
    @PropertyInject(value = "vmesh.allow-demo-secrets", defaultValue = "false")
    private boolean allowDemoSecrets;

    @PropertyInject(value = "vmesh.http.request-read-timeout-ms", defaultValue = "60000")
    private long requestReadTimeoutMs;
    @PropertyInject(value = "vmesh.http.max-connections", defaultValue = "256")
    private int maxConnections;
    @PropertyInject(value = "vmesh.http.max-bytes-in-flight", defaultValue = "67108864")
    private long maxBytesInFlight;
    @PropertyInject(value = "vmesh.http.idle-timeout-ms", defaultValue = "60000")
    private long idleTimeoutMs;
    @PropertyInject(value = "camel.rest.endpoint-properties.chunkedMaxContentLength", defaultValue = "1048576")
    private long largestBody;

    @PropertyInject(value = "vmesh.voicemail-states", defaultValue = "NO_ANSWER,BUSY,DND,FORWARD_ALL")
    private String voicemailStates;
    @PropertyInject(value = "vmesh.sip.realm", defaultValue = "vmesh")
    private String sipRealm;
    @PropertyInject(value = "vmesh.sip.greeting", defaultValue = "camel-config/greeting.wav")
    private String sipGreeting;
    @PropertyInject(value = "vmesh.sip.rtp-first-port", defaultValue = "20000")
    private int rtpFirstPort;
    @PropertyInject(value = "vmesh.sip.rtp-last-port", defaultValue = "20999")
    private int rtpLastPort;
    @PropertyInject(value = "vmesh.sip.silence-seconds", defaultValue = "10")
    private int sipSilenceSeconds;
    @PropertyInject(value = "vmesh.sip.threads", defaultValue = "16")
    private int sipThreads;
    @PropertyInject(value = "vmesh.sip.max-message-bytes", defaultValue = "16384")
    private int sipMaxMessageBytes;
    @PropertyInject(value = "vmesh.sip.max-tcp-connections", defaultValue = "256")
    private int sipMaxTcpConnections;
    @PropertyInject(value = "vmesh.sip.tcp-read-timeout-ms", defaultValue = "5000")
    private long sipTcpReadTimeoutMs;
    @PropertyInject(value = "vmesh.sip.nonce-seconds", defaultValue = "300")
    private long sipNonceSeconds;
    @PropertyInject(value = "vmesh.sip.retry-after-seconds", defaultValue = "5")
    private long sipRetryAfterSeconds;
    @PropertyInject(value = "vmesh.sip.subscription.min-seconds", defaultValue = "60")
    private long sipMinSubscriptionSeconds;
    @PropertyInject(value = "vmesh.sip.subscription.max-seconds", defaultValue = "3600")
    private long sipMaxSubscriptionSeconds;
    @PropertyInject(value = "vmesh.sip.subscription.max-active", defaultValue = "10000")
    private int sipMaxSubscriptions;

    private Directory directory;
    private Path data;
    private Spool spool;
    private Mailboxes mailboxes;
    private Archive archive;
    private EmbeddedBroker embeddedBroker;

    @BindToRegistry("directory")
    public Directory directory() {
        if (directory == null) {
            directory = Directory.load(Path.of(topology));
        }
        return directory;
    }

    /** The watch-topology route's: a changed topology.yaml taken into force, and what follows from it. */
    @BindToRegistry("topologyChanges")
    public io.vmesh.topology.TopologyChanges topologyChanges() {
        return new io.vmesh.topology.TopologyChanges(site, directory(), Path.of(topology))
                .onChange(change -> change.removed().forEach(peerAvailability()::forget));
    }

    /** The data port's deadline for a whole request to arrive (endpoint option {@code decoders}). */
    @BindToRegistry("requestReadTimeout")
    public RequestReadTimeout requestReadTimeout() {
        return new RequestReadTimeout(java.time.Duration.ofMillis(requestReadTimeoutMs));
    }

    /** The data port refuses unauthenticated calls and migrations on their head (endpoint option {@code decoders}). */
    @BindToRegistry("requestHeadCheck")
    public RequestHeadCheck requestHeadCheck() {
        return new RequestHeadCheck(callRequests(), peerAuthentication());
    }

    /** The data port's caps on connections and on bytes in flight, and its idle timeout (endpoint option {@code encoders}). */
    @BindToRegistry("dataPortLimits")
    public DataPortLimits dataPortLimits() {
        return new DataPortLimits(maxConnections, maxBytesInFlight, largestBody, java.time.Duration.ofMillis(idleTimeoutMs));
    }

    private CallRequests callRequests;

    @BindToRegistry("callRequests")
    public CallRequests callRequests() {
        if (callRequests == null) {
            callRequests = new CallRequests(directory(), secrets());
        }
        return callRequests;
    }

    private Secrets secrets;

    public Secrets secrets() {
        if (secrets == null) {
            secrets = new Secrets(Path.of(secretsFile), directory());
            secrets.requireRealSecretsUnlessLoopback(dataHost, allowDemoSecrets);
        }
        return secrets;
    }

    private PeerAuthentication peerAuthentication;

    @BindToRegistry("peerAuthentication")
    public PeerAuthentication peerAuthentication() {
        if (peerAuthentication == null) {
            peerAuthentication = new PeerAuthentication(site, directory(), secrets(), java.time.Duration.ofSeconds(maxClockSkewSeconds));
        }
        return peerAuthentication;
    }

    @BindToRegistry("mailboxAccess")
    public MailboxAccess mailboxAccess() throws java.io.IOException {
        return new MailboxAccess(Path.of(dataDir), secrets(),
                new PinThrottle(clientMaxFailures, mailboxMaxFailures, java.time.Duration.ofSeconds(failureDecaySeconds)));
    }

    private AudioCodec audioCodec;

    @BindToRegistry("audioCodec")
    public AudioCodec audioCodec() {
        if (audioCodec == null) {
            audioCodec = new AudioCodec(maxRecordingSeconds, soxCommand, storeWideband);
        }
        return audioCodec;
    }

    /** The site's data directory, created 0700: recordings and PIN hashes are for the server's user alone. */
    private Path data() {
        if (data == null) {
            try {
                data = DurableFiles.createPrivateDirectories(Path.of(dataDir).toAbsolutePath().normalize());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot create the data directory " + dataDir, e);
            }
        }
        return data;
    }

    /** Messages recorded here until their home mailbox has them: {@code <data>/spool/}. */
    @BindToRegistry(value = "spool", destroyMethod = "close")
    public Spool spool() {
        if (spool == null) {
            spool = new Spool(site, data(), id -> archive().holds(id));
        }
        return spool;
    }

    /** The mailboxes of the extensions homed here: {@code <data>/mailboxes/}. */
    @BindToRegistry("mailboxes")
    public Mailboxes mailboxes() {
        if (mailboxes == null) {
            mailboxes = new Mailboxes(data(), spool());
        }
        return mailboxes;
    }

    /** Migrated messages ({@code <data>/sent/}) and dead letters ({@code <data>/dead-letter/}). */
    @BindToRegistry("archive")
    public Archive archive() {
        if (archive == null) {
            archive = new Archive(site, data(), spool());
        }
        return archive;
    }

    private PeerAvailability peerAvailability;
    @org.apache.camel.BeanInject
    private CamelContext camelContext;
    private ConnectionFactory jmsConnectionFactory;
    private MigrationBacklog migrationBacklog;
    private MigrationRoutes migrationRoutes;

    /** The migration route of each home with messages waiting, added and removed as messages come and go. */
    @BindToRegistry("migrationRoutes")
    public MigrationRoutes migrationRoutes() {
        if (migrationRoutes == null) {
            migrationRoutes = new MigrationRoutes(site, this::migrationBacklog,
                    () -> embeddedBroker() == null ? java.util.Set.of() : embeddedBroker().queuesWithEntries(queuePrefix),
                    idleStopAfterMs);
        }
        return migrationRoutes;
    }

    /** Adds the migration routes of the homes with a backlog once the routes are loaded, and publishes the backlog as metrics. */
    @Override
    public void configure(CamelContext context) throws Exception {
        context.addStartupListener(migrationRoutes());
        context.addStartupListener((ctx, alreadyStarted) -> {
            MeterRegistry registry = ctx.getRegistry().findSingleByType(MeterRegistry.class);
            if (registry != null) {
                migrationBacklog().bindTo(registry);
                if (registry.find("vmesh.peers.probes").functionCounter() == null) { // told again as routes are added
                    io.micrometer.core.instrument.FunctionCounter.builder("vmesh.peers.probes", peerAvailability(), PeerAvailability::probesSent)
                            .description("GET /health requests sent to peers since start").register(registry);
                }
            }
        });
    }

    /**
     * The connection factory of the activemq6 component: pooled, and with the client's redelivery
     * limit lifted, so that a message rolled back at every shutdown never leaves its queue for
     * ActiveMQ.DLQ (vmesh dead-letters by reason, itself).
     */
    @BindToRegistry("jmsConnectionFactory")
    public ConnectionFactory jmsConnectionFactory() {
        if (jmsConnectionFactory != null) {
            return jmsConnectionFactory;
        }
        ActiveMQConnectionFactory activeMq = new ActiveMQConnectionFactory(brokerUrl);
        activeMq.getRedeliveryPolicy().setMaximumRedeliveries(-1);
        // each migration consumer takes a few entries ahead, not ActiveMQ's default 1,000: a message takes
        // milliseconds to send, and a backlog of thousands then stays in the broker's store, not in the heap
        activeMq.getPrefetchPolicy().setQueuePrefetch(10);
        JmsPoolConnectionFactory pool = new JmsPoolConnectionFactory();
        pool.setConnectionFactory(activeMq);
        pool.setMaxConnections(maxBrokerConnections);
        jmsConnectionFactory = pool;
        return pool;
    }

    @BindToRegistry("peerAvailability")
    public PeerAvailability peerAvailability() {
        if (peerAvailability == null) {
            peerAvailability = new PeerAvailability(directory(), probeTimeoutMs, awayProbeIntervalMs, this::peerTls);
        }
        return peerAvailability;
    }

    /** The TLS context of the peers' https:// URLs: the netty-http component's, if it has one (docs/security.md). */
    private javax.net.ssl.SSLContext peerTls() {
        try {
            org.apache.camel.support.jsse.SSLContextParameters tls = camelContext
                    .getComponent("netty-http", org.apache.camel.component.netty.http.NettyHttpComponent.class)
                    .getConfiguration().getSslContextParameters();
            return tls == null ? null : tls.createSSLContext(camelContext);
        } catch (Exception e) {
            throw new IllegalStateException("cannot make the TLS context for peers: " + e.getMessage(), e);
        }
    }

    @BindToRegistry("migrationBacklog")
    public MigrationBacklog migrationBacklog() {
        if (migrationBacklog == null) {
            try {
                migrationBacklog = new MigrationBacklog(site, directory(), peerAvailability(), spool());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read the spool", e);
            }
        }
        return migrationBacklog;
    }

    /** Before each retry of a migration: what went wrong is the home's last error in /migrations. */
    @BindToRegistry("migrationRetryNote")
    public Processor migrationRetryNote() {
        return exchange -> {
            Exception failure = exchange.getException() != null ? exchange.getException()
                    : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
            String home = exchange.getVariable("home", String.class);
            // a home that is away was noted where that was found (PeerAvailability); any other failure is this attempt's own
            if (home != null && failure != null && !(failure instanceof HomeUnavailable)) {
                peerAvailability().failedAttempt(home, failure.getClass().getSimpleName() + ": " + failure.getMessage());
            }
        };
    }

    /** The body of POST /peer/voicemails, read on the home's side (route receive-migration-batch). */
    @BindToRegistry("peerBatch")
    public io.vmesh.migration.PeerBatch peerBatch() {
        return new io.vmesh.migration.PeerBatch();
    }

    /** The answers of a batch's messages (split each-message-alone). */
    @BindToRegistry("batchOutcomes")
    public io.vmesh.migration.BatchOutcomes batchOutcomes() {
        return new io.vmesh.migration.BatchOutcomes();
    }

    @PropertyInject(value = "camel.component.netty-http.maximum-pool-size", defaultValue = "32")
    private int dataPortThreads;

    /**
     * The threads that receive the messages of peers' batches (split each-message-alone), as many as
     * the data port's: each message's fsyncs run beside the others', as they would in requests of their own.
     */
    @BindToRegistry("batchReceivers")
    public java.util.concurrent.ExecutorService batchReceivers() {
        return camelContext.getExecutorServiceManager().newFixedThreadPool(this, "receive-batch", dataPortThreads);
    }

    /** Several messages per request to a home (step post-in-batch of send-to-home). */
    @BindToRegistry("homeBatches")
    public io.vmesh.migration.HomeBatches homeBatches() {
        return new io.vmesh.migration.HomeBatches(camelContext, batchSize, requestTimeoutMs);
    }

    @BindToRegistry("peerIntake")
    public PeerIntake peerIntake() {
        return new PeerIntake(site, directory(), audioCodec());
    }

    /** Message ids received from peers, kept on disk: a redelivered migration is stored once. */
    @BindToRegistry("receivedMessages")
    public IdempotentRepository receivedMessages() {
        return new ReceivedMessageIds(data().resolve("received-message-ids.txt"), 100_000);
    }

    /**
     * The SIP trunk (docs/phone-systems.md) as the {@code sip-voicemail:} component: listening on this
     * server's {@code sip:} address of the topology (no SIP when it has none).
     */
    @BindToRegistry("sip-voicemail")
    public SipVoicemailComponent sipVoicemail() {
        Directory.Server me = directory().server(site).orElseThrow();
        // the demo switch tokens are public: no SIP digest with them where other hosts can reach it either
        me.sip().ifPresent(address -> secrets().requireRealSecretsUnlessLoopback(address.getHostString(), allowDemoSecrets));
        SipSettings settings = new SipSettings(site, me.sip(), sipRealm, data().resolve("sip-calls"), Path.of(sipGreeting),
                java.util.Set.of(voicemailStates.split("\\s*,\\s*")), sipThreads, sipMaxMessageBytes, sipMaxTcpConnections,
                java.time.Duration.ofMillis(sipTcpReadTimeoutMs), java.time.Duration.ofSeconds(sipNonceSeconds),
                java.time.Duration.ofSeconds(sipRetryAfterSeconds), java.time.Duration.ofSeconds(sipMinSubscriptionSeconds),
                java.time.Duration.ofSeconds(sipMaxSubscriptionSeconds), sipMaxSubscriptions);
        java.net.InetAddress rtpAddress = me.sip().map(a -> new java.net.InetSocketAddress(a.getHostString(), 0).getAddress())
                .orElse(java.net.InetAddress.getLoopbackAddress());
        MediaSessions media = new MediaSessions(new MediaSettings(rtpAddress, rtpFirstPort, rtpLastPort,
                java.time.Duration.ofSeconds(maxRecordingSeconds), java.time.Duration.ofSeconds(sipSilenceSeconds)));
        DigestAuthentication digest = new DigestAuthentication(sipRealm, directory(), secrets(),
                java.time.Duration.ofSeconds(sipNonceSeconds), java.time.Clock.systemUTC());
        byte[] prompt = me.sip().isPresent() ? Prompt.load(Path.of(sipGreeting)) : new byte[0];
        Mailboxes store = mailboxes();
        SipTrunk trunk = new SipTrunk(settings, directory(), digest, media, new PartialCalls(settings.partialDir()), prompt,
                ext -> {
                    try {
                        int waiting = store.waiting(ext);
                        return new MessageSummaries.Counts(waiting, Math.max(0, store.list(ext).size() - waiting));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        return new SipVoicemailComponent(trunk);
    }

    @BindToRegistry("siteHealth")
    public SiteHealth siteHealth() {
        return new SiteHealth(site);
    }

    /** Null (nothing bound) when {@code vmesh.broker.url} points at an external broker. */
    @BindToRegistry(value = "embeddedBroker", initMethod = "start", destroyMethod = "stop")
    public EmbeddedBroker embeddedBroker() {
        secrets(); // a server that refuses its secrets (demo ones off loopback) starts no broker first
        String name = EmbeddedBroker.nameInVmUrl(brokerUrl);
        if (name != null && embeddedBroker == null) {
            embeddedBroker = new EmbeddedBroker(name, data().resolve("broker"));
        }
        return embeddedBroker;
    }

    @BindToRegistry("brokerReadiness")
    public HealthCheck brokerReadiness() {
        return new Readiness.Broker(embeddedBroker(), jmsConnectionFactory(), brokerUrl);
    }

    @BindToRegistry("peersReadiness")
    public HealthCheck peersReadiness() {
        return new Readiness.Peers(site, directory(), peerAvailability());
    }

    @BindToRegistry("migrationReadiness")
    public HealthCheck migrationReadiness() {
        return new Readiness.Migration(migrationRoutes());
    }

    @BindToRegistry("dataDirectoryReadiness")
    public HealthCheck dataDirectoryReadiness() {
        return new Readiness.DataDirectory(data(), minFreeMb * 1024 * 1024);
    }
}
