package io.vmesh.hawtio;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.Callback;

/**
 * {@code java -jar target/hawtio/vmesh-hawtio.jar [--port 8180] [--secrets FILE] [--connect NAME=JOLOKIA_URL ...]}:
 * Hawtio 4 on 127.0.0.1, in a JVM of its own (the war's Jolokia 2.1 and vmesh's Jolokia 2.5 cannot share one). It
 * logs in to each management port with {@code management.user} and {@code management.password} of the secrets file
 * (default {@code camel-config/secrets.properties}).
 * {@code http://127.0.0.1:PORT/} stores the connections in the browser and opens the first one on Camel's routes.
 */
public final class HawtioConsole {

    private static final String USAGE = "usage: java -jar vmesh-hawtio.jar [--port 8180] [--secrets camel-config/secrets.properties]"
            + " [--connect NAME=JOLOKIA_URL ...]";
    private static final String LOOPBACK = "127.0.0.1";

    private HawtioConsole() {
    }

    public static void main(String[] args) throws Exception {
        int port = 8180;
        Path secrets = Path.of("camel-config/secrets.properties");
        Map<String, URI> connections = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            // --name=value or --name value
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : null;
            if (value == null && (name.equals("--port") || name.equals("--connect") || name.equals("--secrets"))) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + " needs a value; " + USAGE);
                }
                value = args[++i];
            }
            switch (name) {
                case "--port" -> port = Integer.parseInt(value);
                case "--secrets" -> secrets = Path.of(value);
                case "--connect" -> {
                    int eq = value.indexOf('=');
                    if (eq < 1) {
                        throw new IllegalArgumentException("--connect wants NAME=JOLOKIA_URL, got '" + value + "'; " + USAGE);
                    }
                    connections.put(value.substring(0, eq), jolokiaUrl(value.substring(eq + 1)));
                }
                case "--help", "-h" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'; " + USAGE);
            }
        }
        if (connections.isEmpty()) { // the shipped topology's first server
            connections.put("hq", jolokiaUrl("http://127.0.0.1:9101/observe/jolokia"));
        }
        start(port, connections, login(secrets)).join();
    }

    /** {@code management.user} and {@code management.password} of vmesh's secrets file: the management ports' login. */
    static String[] login(Path secrets) throws java.io.IOException {
        java.util.Properties p = new java.util.Properties();
        try (java.io.Reader in = Files.newBufferedReader(secrets, java.nio.charset.StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("no secrets file " + secrets + " (the management ports' login); " + USAGE, e);
        }
        String user = p.getProperty("management.user", "").trim();
        String password = p.getProperty("management.password", "").trim();
        if (user.isEmpty() || password.isEmpty()) {
            throw new IllegalArgumentException(secrets + " has no management.user and management.password; " + USAGE);
        }
        return new String[] {user, password};
    }

    /** Starts Hawtio at {@code http://127.0.0.1:PORT/hawtio}, with a landing page at {@code /} that preselects a connection. */
    static Server start(int port, Map<String, URI> connections, String[] login) throws Exception {
        // no login: acceptable only because nothing but this machine can reach the port
        System.setProperty("hawtio.authenticationEnabled", "false");
        // Hawtio's proxy forwards only to the hosts of these connections (and to this machine)
        Set<String> hosts = new LinkedHashSet<>(List.of("localhost", LOOPBACK));
        connections.values().forEach(url -> hosts.add(url.getHost()));
        System.setProperty("hawtio.proxyAllowlist", String.join(",", hosts));
        // this JVM's own Jolokia agent (/hawtio/jolokia) answers a version request and nothing else
        System.setProperty("jolokia.policyLocation", "classpath:/hawtio-agent-access.xml");

        Path war = Path.of(HawtioConsole.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolveSibling("hawtio.war");
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException("no " + war + "; build it with `mvn -B -q -DskipTests package`");
        }
        WebAppContext hawtio = new WebAppContext();
        hawtio.setContextPath("/hawtio");
        hawtio.setWar(war.toString());
        // one log for the console: the war's classes log through our SLF4J and its binding, not the war's log4j
        hawtio.getProtectedClassMatcher().add("org.slf4j.");

        Server server = new Server();
        ServerConnector http = new ServerConnector(server);
        http.setHost(LOOPBACK);
        http.setPort(port);
        server.addConnector(http);
        server.setHandler(new ContextHandlerCollection(hawtio, new ContextHandler(new Landing(connections, login), "/")));
        server.setStopAtShutdown(true);
        server.start();
        System.out.println("Hawtio: http://" + LOOPBACK + ":" + http.getLocalPort() + "/ (connections " + connections + ")");
        return server;
    }

    private static URI jolokiaUrl(String url) {
        try {
            URI uri = new URI(url);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) Jolokia URL: '" + url + "'; " + USAGE);
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: '" + url + "'; " + USAGE, e);
        }
    }

    /**
     * {@code /}: Hawtio 4 keeps its connections in the browser ({@code localStorage["connect.connections"]}, keyed by id)
     * and opens one given as {@code ?con=ID}; this page adds ours and goes to the Camel routes of the first
     * (or of {@code /?con=NAME}).
     */
    private static final class Landing extends Handler.Abstract {

        private final String page;

        Landing(Map<String, URI> connections, String[] login) {
            StringBuilder json = new StringBuilder("{");
            connections.forEach((name, url) -> {
                int port = url.getPort() > 0 ? url.getPort() : ("https".equals(url.getScheme()) ? 443 : 80);
                String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
                json.append(json.length() > 1 ? "," : "").append(quote(name)).append(":{")
                        .append("\"id\":").append(quote(name)).append(",\"name\":").append(quote(name))
                        .append(",\"scheme\":").append(quote(url.getScheme())).append(",\"host\":").append(quote(url.getHost()))
                        .append(",\"port\":").append(port).append(",\"path\":").append(quote(path))
                        .append(",\"username\":").append(quote(login[0])).append(",\"password\":").append(quote(login[1])).append('}');
            });
            json.append('}');
            page = """
                    <!DOCTYPE html>
                    <html><head><meta charset="utf-8"><title>vmesh: Hawtio</title></head><body>
                    <p>Opening Hawtio on the vmesh routes&hellip;</p>
                    <script>
                    const ours = %s;
                    const saved = JSON.parse(localStorage.getItem('connect.connections') || '{}');
                    localStorage.setItem('connect.connections', JSON.stringify(Object.assign(saved, ours)));
                    const wanted = new URLSearchParams(location.search).get('con');
                    const con = wanted in ours ? wanted : Object.keys(ours)[0];
                    location.replace('/hawtio/camel/routes?con=' + encodeURIComponent(con));
                    </script>
                    </body></html>
                    """.formatted(json.toString().replace("</", "<\\/"));
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!"/".equals(Request.getPathInContext(request))) {
                Response.sendRedirect(request, response, callback, "/hawtio/");
                return true;
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            Content.Sink.write(response, true, page, callback);
            return true;
        }

        private static String quote(String s) {
            StringBuilder out = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
            return out.append('"').toString();
        }
    }
}
