package io.vmesh;

import io.vmesh.security.ManagementLogin;
import io.vmesh.tools.OutageDemo;
import io.vmesh.tools.SwitchSimulator;
import io.vmesh.topology.Directory;

import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.main.Main;

/**
 * {@code java -jar vmesh.jar [--site=ID] [--config=DIR] [--data=DIR] [--demo]}: one site server of the topology
 * ({@code --demo}: allow the shipped demo secrets on an address other than loopback).
 * {@code java -jar vmesh.jar switch ...}: a switch placing calls ({@link SwitchSimulator});
 * {@code java -jar vmesh.jar demo ...}: the FIG. 1 topology through an outage ({@link OutageDemo}).
 */
public final class Vmesh {

    private Vmesh() {
    }

    public static void main(String[] args) throws Exception {
        String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
        switch (args.length > 0 ? args[0] : "") {
            case "switch" -> System.exit(SwitchSimulator.commandLine(System.out, System.err, System.console() != null, rest));
            case "demo" -> System.exit(OutageDemo.commandLine(System.out, System.err, rest));
            default -> {
                Main server = create(args);
                try {
                    server.run();
                } catch (Exception e) {
                    System.err.println("vmesh: " + rootCause(e).getMessage());
                    System.exit(1);
                }
            }
        }
    }

    /** A configured, not yet started server; tests start the same one. */
    public static Main create(String... args) {
        Map<String, String> options = options(args);
        Path config = Path.of(options.getOrDefault("config", "camel-config")).toAbsolutePath().normalize();
        Path topology = config.resolve("topology.yaml");
        Directory directory = Directory.load(topology);
        Directory.Server server = options.containsKey("site")
                ? directory.server(options.get("site")).orElseThrow(() -> new IllegalArgumentException(
                        "--site=" + options.get("site") + " is not a server in " + topology))
                : directory.servers().get(0);
        Path data = Path.of(options.getOrDefault("data", "data/" + server.id())).toAbsolutePath().normalize();

        Main main = new Main(); // beans come from camel.main.configuration-classes, no package scan
        // the first location that defines a key wins: the site's own file, then the shared one
        main.setPropertyPlaceholderLocations("file:" + config.resolve(server.id() + ".properties") + ";optional=true"
                + ",file:" + config.resolve("application.properties"));
        // derived from the topology; a per-site properties file may still override them
        main.addInitialProperty("vmesh.data-host", server.url().getHost());
        main.addInitialProperty("vmesh.data-port", String.valueOf(port(server.url())));
        main.addInitialProperty("vmesh.management-host", server.management().getHost());
        main.addInitialProperty("vmesh.management-port", String.valueOf(port(server.management())));
        // the command line wins over every file
        main.addOverrideProperty("vmesh.site", server.id());
        main.addOverrideProperty("vmesh.config-dir", config.toString());
        main.addOverrideProperty("vmesh.topology", topology.toString());
        main.addOverrideProperty("vmesh.data-dir", data.toString());
        // the management port asks for management.user / management.password of the secrets file
        main.addMainListener(new org.apache.camel.main.MainListenerSupport() {
            @Override
            public void beforeConfigure(org.apache.camel.main.BaseMainSupport configuring) {
                Path secrets = Path.of(configuring.getCamelContext().resolvePropertyPlaceholders("{{vmesh.security.secrets-file}}"));
                configuring.configure().httpManagementServer().withAuthenticationEnabled(true).withAuthenticationPath("/*")
                        .setBasicPropertiesFile(ManagementLogin.usersFile(secrets).toString());
            }
        });
        if (options.containsKey("demo")) {
            main.addOverrideProperty("vmesh.allow-demo-secrets", "true");
        }
        return main;
    }

    private static Map<String, String> options(String... args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (arg.equals("--demo")) {
                options.put("demo", "true");
                continue;
            }
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("unknown argument '" + arg + "'; usage: vmesh [--site=ID] [--config=DIR] [--data=DIR] [--demo] | vmesh switch ... | vmesh demo ...");
            }
            String name = arg.substring(2, arg.indexOf('='));
            if (!name.equals("site") && !name.equals("config") && !name.equals("data")) {
                throw new IllegalArgumentException("unknown option --" + name + "; usage: vmesh [--site=ID] [--config=DIR] [--data=DIR] [--demo]");
            }
            options.put(name, arg.substring(arg.indexOf('=') + 1));
        }
        return options;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static int port(URI url) {
        return url.getPort() > 0 ? url.getPort() : ("https".equals(url.getScheme()) ? 443 : 80);
    }
}
