package io.vmesh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The worked examples of docs/customising.md: each edits a copy of routes/ exactly as the guide
 * shows, loads it into a real server, and checks the new behaviour. The edited YAML is also checked
 * against the YAML DSL schema.
 */
class CustomisedRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** docs/customising.md, example 1: DND calls are handled normally instead of going to voicemail. */
    static final String VOICEMAIL_STATES_BEFORE = "simple: \"${header.state} in '{{vmesh.voicemail-states}}'\"";
    static final String VOICEMAIL_STATES_AFTER = "simple: \"${header.state} in 'NO_ANSWER,BUSY,FORWARD_ALL'\"";

    /** docs/customising.md, example 2: the lobby phones 1990-1999 never take voicemail. */
    static final String PER_EXTENSION_ANCHOR = "            when:\n";
    static final String PER_EXTENSION_RULE = """
                        when:
                          - id: "lobby-phones-never-take-voicemail"
                            simple: "${header.to} range '1990..1999'"
                            steps:
                              - to: "direct:normal-handling"
            """;

    /** docs/customising.md, example 3: every recorded voicemail's metadata is tapped to a topic. */
    static final String TAP_ANCHOR = "        - to: \"micrometer:counter:vmesh.voicemails.recorded\"\n";
    static final String TAP = """
                    - wireTap:
                        uri: "activemq6:topic:vmesh.voicemail.recorded"
            """;

    @TempDir
    Path dir;

    private Path editedRoutes(String file, String before, String after) throws IOException {
        Path routes = Files.createDirectories(dir.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path f : files.toList()) {
                Files.copy(f, routes.resolve(f.getFileName()));
            }
        }
        if (before == null) {
            return routes;
        }
        Path edited = routes.resolve(file);
        String yaml = Files.readString(edited);
        assertThat(yaml).as("the anchor the guide edits").contains(before);
        Files.writeString(edited, yaml.replace(before, after));
        assertThat(RoutesSchemaTest.validate(Files.readString(edited))).isEmpty();
        return routes;
    }

    private SiteServer serverWith(Path routes, String extraProperties) {
        TestTopology topology = new TestTopology(dir.resolve("config")).siteProperties("hq",
                "camel.main.routes-include-pattern = file:" + routes + "/*.camel.yaml\n" + extraProperties);
        return new SiteServer(topology, "hq", dir.resolve("data")).start();
    }

    private static String disposition(SiteServer hq, String ext, String state) throws IOException {
        var response = hq.postCall("hq-sw1", "callId=cust&from=1&to=" + ext + "&state=" + state,
                state.equals("ANSWERED") ? null : Audio.resource("speech-03.wav"));
        return JSON.readTree(response.body()).get("disposition").asText();
    }

    @Test
    void changingWhichCallStatesGoToVoicemail() throws Exception {
        Path routes = editedRoutes("call-status.camel.yaml",
                "- id: \"to-voicemail\"\n                " + VOICEMAIL_STATES_BEFORE,
                "- id: \"to-voicemail\"\n                " + VOICEMAIL_STATES_AFTER);
        try (SiteServer hq = serverWith(routes, "")) {
            assertThat(disposition(hq, "1100", "DND")).isEqualTo("NORMAL");
            assertThat(disposition(hq, "1100", "BUSY")).isEqualTo("VOICEMAIL");
        }
    }

    @Test
    void addingAPerExtensionRule() throws Exception {
        Path routes = editedRoutes("call-status.camel.yaml", "        - choice:\n" + PER_EXTENSION_ANCHOR,
                "        - choice:\n" + PER_EXTENSION_RULE);
        try (SiteServer hq = serverWith(routes, "")) {
            assertThat(disposition(hq, "1995", "NO_ANSWER")).isEqualTo("NORMAL");
            assertThat(disposition(hq, "1989", "NO_ANSWER")).isEqualTo("VOICEMAIL");
            assertThat(hq.dataDir.resolve("mailboxes/1995")).doesNotExist();
        }
    }

    @Test
    void tappingEveryRecordedVoicemailToAnotherEndpoint() throws Exception {
        Path routes = editedRoutes("record-voicemail.camel.yaml", TAP_ANCHOR, TAP_ANCHOR + TAP);
        try (SiteServer hq = serverWith(routes, "");
             Jms.Subscription tap = new Jms.Subscription(hq.brokerUrl(), "vmesh.voicemail.recorded")) {
            var created = hq.postCall("hq-sw1", "callId=tap-1&from=5550900&to=2900&state=BUSY", Audio.resource("speech-03.wav"));
            String id = JSON.readTree(created.body()).get("messageId").asText();

            String tapped = tap.received.poll(10, TimeUnit.SECONDS);

            assertThat(tapped).isNotNull();
            assertThat(JSON.readTree(tapped).get("id").asText()).isEqualTo(id);
            assertThat(JSON.readTree(tapped).get("extension").asText()).isEqualTo("2900");
        }
    }

    @Test
    void editedRouteIsReloadedWithoutARestartWhenReloadIsOn() throws Exception {
        Path routes = editedRoutes("call-status.camel.yaml", null, null);
        String reload = "camel.main.routes-reload-enabled = true\n"
                + "camel.main.routes-reload-directory = " + routes + "\n"
                + "camel.main.routes-reload-pattern = *.camel.yaml\n"
                + "camel.main.routes-reload-remove-all-routes = false\n";
        try (SiteServer hq = serverWith(routes, reload)) {
            assertThat(disposition(hq, "1101", "DND")).isEqualTo("VOICEMAIL");
            assertThat(disposition(hq, "2101", "BUSY")).isEqualTo("VOICEMAIL"); // waits for east: its route is added
            await().atMost(Duration.ofSeconds(20)).until(() -> hq.context().getRoute("migrate-to-east") != null);
            Path callStatus = routes.resolve("call-status.camel.yaml");

            Files.writeString(callStatus, Files.readString(callStatus).replace(VOICEMAIL_STATES_BEFORE, VOICEMAIL_STATES_AFTER));

            await().atMost(Duration.ofSeconds(20)).until(() -> disposition(hq, "1101", "DND").equals("NORMAL"));
            assertThat(disposition(hq, "1101", "BUSY")).isEqualTo("VOICEMAIL");
            assertThat(hq.context().getRoute("migrate-to-east")).as("routes made from templates survive a reload").isNotNull();
        }
    }
}
