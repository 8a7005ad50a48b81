package io.vmesh;

import io.vmesh.security.ManagementLogin;
import io.vmesh.tools.OutageDemo;
import io.vmesh.tools.SwitchSimulator;
import io.vmesh.topology.Directory;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.main.Main;

/**
 * {@code vmesh [--site=ID] [--config=DIR] [--routes=DIR] [--data=DIR] [--demo]}: one site server of the
 * topology ({@code --demo}: allow the shipped demo secrets on an address other than loopback).
 * {@code vmesh switch ...}: a switch placing calls ({@link SwitchSimulator});
 * {@code vmesh demo ...}: the FIG. 1 topology through an outage ({@link OutageDemo}).
 * ({@code vmesh} is {@code bin/vmesh} of the distribution, or {@code java -jar target/vmesh.jar} in a build.)
 */
public final class Vmesh {

    static final String USAGE = """
            usage: vmesh [--site=ID] [--config=DIR] [--routes=DIR] [--data=DIR] [--demo]
                   vmesh switch --help | vmesh demo --help
              --site     the server of topology.yaml to run (default: the first one)
              --config   application.properties, secrets.properties, topology.yaml (default: camel-config/ of the installation)
              --routes   the *.camel.yaml routes (default: routes/ of the installation)
              --data     where this server keeps its messages (default: data/<site> in the working directory)
              --demo     allow the shipped demo secrets on an address other than loopback
              switch     a switch placing calls, to try a server out
              demo       three servers through an outage, on this machine""";

    private Vmesh() {
    }

    public static void main(String[] args) throws Exception {
        String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
        switch (args.length > 0 ? args[0] : "") {
            case "switch" -> System.exit(SwitchSimulator.commandLine(System.out, System.err, System.console() != null, rest));
            case "demo" -> System.exit(OutageDemo.commandLine(System.out, System.err, rest));
            default -> {
                if (Arrays.asList(args).contains("--help")) {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                Main server;
                try {
                    server = create(args);
                } catch (IllegalArgumentException | UncheckedIOException e) {
                    System.err.println("vmesh: " + e.getMessage());
                    System.exit(2);
                    return;
                }
                try {
                    server.run();
                } catch (Exception e) {
                    System.err.println("vmesh: " + rootCause(e).getMessage());
                    System.exit(1);
                }
            }
        }
    }

    /**
     * A configured, not yet started server; tests start the same one. A bad option, or a missing
     * configuration or routes directory, is an {@link IllegalArgumentException} saying which.
     */
    public static Main create(String... args) {
        Map<String, String> options = options(args);
        Path config = Path.of(options.getOrDefault("config", Installation.config().toString())).toAbsolutePath().normalize();
        Path routes = Path.of(options.getOrDefault("routes", Installation.routes().toString())).toAbsolutePath().normalize();
        Path topology = config.resolve("topology.yaml");
        if (!Files.isRegularFile(topology)) {
            throw new IllegalArgumentException("no topology.yaml in " + config + " (give --config=DIR)");
        }
        if (!Files.isDirectory(routes)) {
            throw new IllegalArgumentException("no routes directory " + routes + " (give --routes=DIR)");
        }
        try {
            routes = routes.toRealPath(); // Camel does not follow a symbolic link to the directory
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the routes directory " + routes + ": " + e.getMessage());
        }
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
        main.addOverrideProperty("vmesh.routes-dir", routes.toString());
        main.addOverrideProperty("vmesh.topology", topology.toString());
        main.addOverrideProperty("vmesh.data-dir", data.toString());
        // the management port asks for management.user / management.password of the secrets file
        main.addMainListener(new org.apache.camel.main.MainListenerSupport() {
            @Override
            public void beforeConfigure(org.apache.camel.main.BaseMainSupport configuring) {
                Path secrets = Path.of(configuring.getCamelContext().resolvePropertyPlaceholders("{{vmesh.security.secrets-file}}"));
                requireManagementLogin(configuring.configure(), secrets, data);
            }
        });
        if (options.containsKey("demo")) {
            main.addOverrideProperty("vmesh.allow-demo-secrets", "true");
        }
        return main;
    }

    /**
     * HTTP Basic on the whole management port, with management.user / management.password of
     * {@code secrets} (copied into the server's data directory {@code data}, {@link ManagementLogin}).
     */
    public static void requireManagementLogin(org.apache.camel.main.MainConfigurationProperties configuration, Path secrets, Path data) {
        configuration.httpManagementServer().withAuthenticationEnabled(true).withAuthenticationPath("/*")
                .setBasicPropertiesFile(ManagementLogin.usersFile(secrets, data).toString());
    }

    private static Map<String, String> options(String... args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String arg : args) {
            if (arg.equals("--demo")) {
                options.put("demo", "true");
                continue;
            }
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("unknown argument '" + arg + "' (see vmesh --help)");
            }
            String name = arg.substring(2, arg.indexOf('='));
            if (!name.equals("site") && !name.equals("config") && !name.equals("routes") && !name.equals("data")) {
                throw new IllegalArgumentException("unknown option --" + name + " (see vmesh --help)");
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
