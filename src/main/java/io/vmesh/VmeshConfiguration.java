package io.vmesh;

import java.nio.file.Path;

import org.apache.camel.BindToRegistry;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.PropertyInject;
import org.apache.camel.health.HealthCheck;

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
    @PropertyInject(value = "vmesh.data.min-free-mb", defaultValue = "100")
    private long minFreeMb;

    @PropertyInject("vmesh.migration.queue-prefix")
    private String queuePrefix;

    private Directory directory;
    private VoicemailStore voicemailStore;
    private EmbeddedBroker embeddedBroker;

    @BindToRegistry("directory")
    public Directory directory() {
        if (directory == null) {
            directory = Directory.load(Path.of(topology));
        }
        return directory;
    }

    @BindToRegistry("callRequests")
    public CallRequests callRequests() {
        return new CallRequests(directory());
    }

    @BindToRegistry("audioCodec")
    public AudioCodec audioCodec() {
        return new AudioCodec(maxRecordingSeconds);
    }

    @BindToRegistry("voicemailStore")
    public VoicemailStore voicemailStore() {
        if (voicemailStore == null) {
            voicemailStore = new VoicemailStore(site, dataDir);
        }
        return voicemailStore;
    }

    @BindToRegistry("spoolRecovery")
    public SpoolRecovery spoolRecovery() {
        return new SpoolRecovery(site, voicemailStore(), directory(), brokerUrl, queuePrefix);
    }

    @BindToRegistry("siteHealth")
    public SiteHealth siteHealth() {
        return new SiteHealth(site);
    }

    /** Null (nothing bound) when {@code vmesh.broker.url} points at an external broker. */
    @BindToRegistry(value = "embeddedBroker", initMethod = "start", destroyMethod = "stop")
    public EmbeddedBroker embeddedBroker() {
        String name = EmbeddedBroker.nameInVmUrl(brokerUrl);
        if (name != null && embeddedBroker == null) {
            embeddedBroker = new EmbeddedBroker(name, Path.of(dataDir, "broker"));
        }
        return embeddedBroker;
    }

    @BindToRegistry("brokerReadiness")
    public HealthCheck brokerReadiness() {
        return new Readiness.Broker(embeddedBroker(), brokerUrl);
    }

    @BindToRegistry("dataDirectoryReadiness")
    public HealthCheck dataDirectoryReadiness() {
        return new Readiness.DataDirectory(Path.of(dataDir).toAbsolutePath(), minFreeMb * 1024 * 1024);
    }
}
