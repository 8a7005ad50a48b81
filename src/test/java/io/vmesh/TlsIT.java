package io.vmesh;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** TLS on the data port, configured exactly as docs/security.md says, between switches, users and peers. */
class TlsIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    private static SSLContext trusting(Path truststore) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(truststore)) {
            trust.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static String tlsProperties(Path keystore, Path truststore) {
        return """
                camel.rest.scheme = https
                camel.rest.endpoint-properties.ssl = true
                camel.rest.endpoint-properties.sslContextParameters = #dataPortTls
                camel.component.netty-http.ssl-context-parameters = #dataPortTls
                camel.beans.dataPortTls = #class:org.apache.camel.support.jsse.SSLContextParameters
                camel.beans.dataPortTls.keyManagers = #class:org.apache.camel.support.jsse.KeyManagersParameters
                camel.beans.dataPortTls.keyManagers.keyPassword = changeit
                camel.beans.dataPortTls.keyManagers.keyStore = #class:org.apache.camel.support.jsse.KeyStoreParameters
                camel.beans.dataPortTls.keyManagers.keyStore.resource = file:%s
                camel.beans.dataPortTls.keyManagers.keyStore.password = changeit
                camel.beans.dataPortTls.keyManagers.keyStore.type = PKCS12
                camel.beans.dataPortTls.trustManagers = #class:org.apache.camel.support.jsse.TrustManagersParameters
                camel.beans.dataPortTls.trustManagers.keyStore = #class:org.apache.camel.support.jsse.KeyStoreParameters
                camel.beans.dataPortTls.trustManagers.keyStore.resource = file:%s
                camel.beans.dataPortTls.trustManagers.keyStore.password = changeit
                camel.beans.dataPortTls.trustManagers.keyStore.type = PKCS12
                """.formatted(keystore, truststore);
    }

    @Test
    void switchesUsersAndPeersTalkTlsOnTheDataPort() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Path cert = dir.resolve("server.crt");
        Path truststore = dir.resolve("peers.p12");
        keytool("-genkeypair", "-alias", "vmesh", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "30",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-alias", "vmesh", "-keystore", keystore.toString(), "-storepass", "changeit", "-rfc",
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "vmesh-peers", "-file", cert.toString(), "-keystore",
                truststore.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        TestTopology t = new TestTopology(dir.resolve("config"), "https");
        t.siteProperties("hq", tlsProperties(keystore, truststore)).siteProperties("east", tlsProperties(keystore, truststore));
        HttpClient client = HttpClient.newBuilder().sslContext(trusting(truststore)).connectTimeout(Duration.ofSeconds(5)).build();

        try (VmeshProcess hq = new VmeshProcess(t, "hq", dir.resolve("data-hq")).withClient(client).start();
             VmeshProcess east = new VmeshProcess(t, "east", dir.resolve("data-east")).withClient(client).start()) {
            var created = client.send(HttpRequest.newBuilder(URI.create(t.dataUrl("hq")
                            + "/switch/hq-sw1/calls?callId=tls-1&from=5551300&to=2060&state=NO_ANSWER"))
                    .header("Authorization", Credentials.switchToken("hq-sw1"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Audio.resource("speech-02.wav"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).isEqualTo(201);
            String id = JSON.readTree(created.body()).get("messageId").asText();

            // migrated over https, the probe included, and read by its owner over https
            await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(client.send(HttpRequest.newBuilder(
                    URI.create(t.dataUrl("east") + "/mailboxes/2060/messages"))
                    .header("Authorization", Credentials.claim(client, t.dataUrl("east"), "2060")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).findValuesAsText("id").equals(List.of(id)));

            // and nothing answers in plain HTTP on the data port
            HttpClient plain = HttpClient.newHttpClient();
            String plainUrl = t.dataUrl("hq").replace("https://", "http://") + "/health";
            try {
                var answer = plain.send(HttpRequest.newBuilder(URI.create(plainUrl)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isNotEqualTo(200);
            } catch (IOException expected) {
                // the TLS server drops a plain-text request
            }
        }
    }
}
