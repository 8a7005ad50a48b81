package io.vmesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Kamailio as the PBX in front of vmesh, configured as docs/phone-systems.md shows: a call to
 * an extension whose phone does not answer goes to the voicemail pilot of hq with a Diversion header
 * naming the extension, Kamailio answering vmesh's digest challenge as the switch; with hq killed,
 * the same call goes to east, the next server on its list.
 */
class KamailioForwardingIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void aCallNobodyAnswersReachesTheMailboxItWasDivertedFromAndTheNextServerWhenTheFirstIsDown() throws Exception {
        TestTopology topology = new TestTopology(dir.resolve("config")).shortGreeting();
        Path speech = dir.resolve("speech.wav");
        SipTrunkTest.firstSeconds(Audio.resource("speech-01.wav"), 4, speech);
        int kamailioPort = TestTopology.freePort();
        int silentPhone = TestTopology.freePort(); // nothing listens: the phone never answers
        Path config = dir.resolve("kamailio.cfg");
        Files.writeString(config, kamailioConfig(kamailioPort, silentPhone, topology.sipAddress("hq"), topology.sipAddress("east")));

        try (VmeshProcess hq = new VmeshProcess(topology, "hq", dir.resolve("hq")).start();
             VmeshProcess east = new VmeshProcess(topology, "east", dir.resolve("east")).start();
             Kamailio pbx = new Kamailio(config, dir.resolve("kamailio.log"))) {
            call(dir.resolve("caller-1"), "1001", kamailioPort, speech);
            JsonNode first = awaitMessage(topology, "hq", "1001");
            assertThat(first.get("recordedBy").asText()).isEqualTo("hq");
            assertThat(first.get("switchId").asText()).isEqualTo("hq-sw1");
            assertThat(first.get("durationMs").asLong()).isGreaterThan(1000);

            hq.kill9();
            call(dir.resolve("caller-2"), "2001", kamailioPort, speech);
            JsonNode second = awaitMessage(topology, "east", "2001");
            assertThat(second.get("recordedBy").asText()).isEqualTo("east");
            assertThat(pbx.log()).contains("diverted 1001 (no-answer)").contains("diverted 2001 (no-answer)");
        }
    }

    /** baresip calls the extension through Kamailio and hangs up after a few seconds of speech. */
    private static void call(Path home, String extension, int kamailioPort, Path speech) throws Exception {
        try (Baresip caller = new Baresip(home, "sip:0301234567@127.0.0.1", "caller", "none", speech)) {
            caller.start(Duration.ofSeconds(12), "/dial sip:" + extension + "@127.0.0.1:" + kamailioPort);
            caller.awaitExit(Duration.ofSeconds(40));
        }
    }

    private static JsonNode awaitMessage(TestTopology topology, String site, String extension) {
        String path = "/mailboxes/" + extension + "/messages";
        JsonNode list = await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(get(topology, site, path)), l -> l.isArray() && l.size() == 1);
        return list.get(0);
    }

    private static String get(TestTopology topology, String site, String path) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String owner = Credentials.claim(http, topology.dataUrl(site), Credentials.extensionOf(path)); // main's PIN rules: the owner sets one first
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(topology.dataUrl(site) + path))
                .header("Authorization", owner).timeout(Duration.ofSeconds(10)).build();
        return http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The configuration of docs/phone-systems.md, with the test's addresses and a voicemail pilot. */
    static String kamailioConfig(int port, int phonePort, String hq, String east) {
        return """
                #!KAMAILIO
                debug=2
                log_stderror=yes
                children=2
                listen=udp:127.0.0.1:%1$d
                mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
                loadmodule "tm.so"
                loadmodule "sl.so"
                loadmodule "rr.so"
                loadmodule "pv.so"
                loadmodule "textops.so"
                loadmodule "siputils.so"
                loadmodule "maxfwd.so"
                loadmodule "xlog.so"
                loadmodule "uac.so"
                modparam("uac", "credential", "hq-sw1:vmesh:demo-hq-sw1")

                request_route {
                    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
                    if (has_totag()) {
                        if (loose_route()) { t_relay(); exit; }
                        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
                        sl_send_reply("404", "Not here");
                        exit;
                    }
                    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
                    if (is_method("INVITE") && $rU =~ "^[1-3][0-9]{3}$") {
                        record_route();
                        $avp(ext) = $rU;
                        $du = "sip:127.0.0.1:%2$d";        # the extension's phone, which does not answer
                        t_set_fr(5000, 1000);
                        t_on_failure("VOICEMAIL");
                        t_relay();
                        exit;
                    }
                    sl_send_reply("404", "Not here");
                }

                failure_route[VOICEMAIL] {
                    if (t_is_canceled()) exit;
                    $avp(reason) = "no-answer";
                    if (t_check_status("486|600")) {
                        $avp(reason) = "user-busy";
                    }
                    xlog("L_NOTICE", "diverted $avp(ext) ($avp(reason))\n");
                    $avp(vmesh) = "sip:voicemail@%3$s";       # the pilot: the mailbox comes from Diversion
                    $avp(next) = "sip:voicemail@%4$s";
                    route(TO_VMESH);
                }

                failure_route[VMESH_AUTH] {
                    if (t_is_canceled()) exit;
                    if (t_check_status("401|407")) {
                        if (uac_auth()) {
                            route(TO_VMESH);
                        }
                        exit;
                    }
                    if (t_check_status("408|500|503") && $avp(next) != $null) {
                        xlog("L_NOTICE", "$avp(vmesh) did not take the call: trying $avp(next)\n");
                        $avp(vmesh) = $avp(next);
                        $avp(next) = $null;
                        route(TO_VMESH);
                    }
                }

                route[TO_VMESH] {
                    $ru = $avp(vmesh);
                    $du = $null;
                    append_hf("Diversion: <sip:$avp(ext)@$td>;reason=$avp(reason)\r\n");
                    t_set_fr(0, 2000);
                    t_on_failure("VMESH_AUTH");
                    t_relay();
                }
                """.formatted(port, phonePort, hq, east);
    }

    /** Debian's kamailio in the foreground, logging to a file; stopped with the test. */
    static final class Kamailio implements AutoCloseable {
        private final Process process;
        private final Path log;

        Kamailio(Path config, Path log) throws IOException, InterruptedException {
            this.log = log;
            Path runDir = Files.createDirectories(config.resolveSibling("kamailio-run"));
            this.process = new ProcessBuilder(List.of("kamailio", "-f", config.toString(), "-DD", "-E", "-m", "32", "-M", "4",
                    "-Y", runDir.toString(), "-w", runDir.toString()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try { // a configuration error ends it within a moment of its start
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(process::isAlive);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new IllegalStateException("kamailio (Debian package kamailio) did not start:\n" + log(), e);
            }
        }

        String log() throws IOException {
            return Files.exists(log) ? Files.readString(log) : "";
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
