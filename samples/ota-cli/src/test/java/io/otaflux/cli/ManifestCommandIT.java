package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** keygen, manifest create, check and update --manifest, end to end against a local HTTPS server. */
class ManifestCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension
  static final DemoServer DEMO = new DemoServer();
  private static final byte[] IMAGE2 = DemoServer.random(700_000, 2);
  private static Path otherKeys;

  @TempDir
  Path dir;

  @BeforeAll
  static void publish() throws Exception {
    otherKeys = DEMO.keygen("other-keys");
    byte[] image1 = DemoServer.random(600_000, 1);
    DEMO.server().publish("fw-2.0.0.bin", IMAGE2);
    DEMO.server().publish("fw-1.0.0.bin", image1);
    DEMO.signedManifest("fw-2.0.0.bin", IMAGE2, "2.0.0", DEMO.keys(), "m-2.0.0.json");
    DEMO.signedManifest("fw-1.0.0.bin", image1, "1.0.0", DEMO.keys(), "m-1.0.0.json");
    DEMO.signedManifest("fw-2.0.0.bin", IMAGE2, "2.0.0", otherKeys, "m-other-key.json");
    String good = new String(DEMO.server().get("m-2.0.0.json"), StandardCharsets.UTF_8);
    DEMO.server().publish("m-tampered.json", good.replace("\"2.0.0\"", "\"2.0.1\"").getBytes(StandardCharsets.UTF_8));
  }

  private String slots() {
    return dir.resolve("slots").toString();
  }

  private OtaProcess.Run ota(String command, String manifest, String... extra) throws Exception {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(extra));
    args.addAll(0, java.util.List.of("--trusted-key", DEMO.keys().resolve(KeygenCommand.PUBLIC).toString()));
    return otaWithoutKey(command, manifest, args.toArray(String[]::new));
  }

  private OtaProcess.Run otaWithoutKey(String command, String manifest, String... extra) throws Exception {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(command, "--manifest",
        DEMO.server().uri(manifest).toString(), "--slots", slots(), "--root-cert", DEMO.rootPem().toString()));
    if (command.equals("update")) {
      args.add("--no-progress");
    }
    args.addAll(java.util.List.of(extra));
    return OtaProcess.run(args.toArray(String[]::new));
  }

  private JsonNode status() throws Exception {
    return JSON.readTree(OtaProcess.run("status", "--slots", slots(), "--json").stdout());
  }

  @Test
  void aSignedManifestIsCheckedInstalledAndItsVersionRecorded() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    OtaProcess.Run check = ota("check", "m-2.0.0.json");
    assertThat(check.exitCode()).as(check.all()).isZero();
    assertThat(check.stdout().strip()).isEqualTo("2.0.0");

    OtaProcess.Run update = ota("update", "m-2.0.0.json");
    assertThat(update.exitCode()).as(update.all()).isZero();
    JsonNode status = status();
    assertThat(status.at("/slots/b/version").asText()).isEqualTo("2.0.0");
    assertThat(status.at("/slots/b/sha256").asText()).isEqualTo(Sha256.digest(IMAGE2).hex());

    OtaProcess.Run again = ota("check", "m-2.0.0.json");
    assertThat(again.exitCode()).as(again.all()).isEqualTo(1);
    assertThat(again.stdout()).isEmpty();
  }

  @Test
  void aDowngradeIsRefusedWithPolicyUnlessAllowed() throws Exception {
    assertThat(ota("update", "m-2.0.0.json").exitCode()).isZero();
    // the device boots 2.0.0 and confirms it, as it must before it takes another update
    assertThat(OtaProcess.run("boot", "--slots", slots()).exitCode()).isZero();
    assertThat(OtaProcess.run("mark-good", "--slots", slots()).exitCode()).isZero();
    OtaProcess.Run refused = ota("update", "m-1.0.0.json");
    assertThat(refused.exitCode()).as(refused.all()).isEqualTo(9);
    assertThat(refused.errorLine()).contains("--allow-downgrade");
    assertThat(status().get("next").asText()).isEqualTo("b");
    assertThat(ota("check", "m-1.0.0.json").exitCode()).isEqualTo(1);

    OtaProcess.Run allowed = ota("update", "m-1.0.0.json", "--allow-downgrade");
    assertThat(allowed.exitCode()).as(allowed.all()).isZero();
  }

  @Test
  void aTamperedManifestIsIntegrityAndNothingIsDownloaded() throws Exception {
    OtaProcess.Run run = ota("update", "m-tampered.json");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(6);
    run.errorLine();
    assertThat(status().get("next").asText()).isEqualTo("a");
  }

  @Test
  void aManifestSignedByAnUntrustedKeyIsIntegrity() throws Exception {
    OtaProcess.Run run = ota("update", "m-other-key.json");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(6);
    OtaProcess.Run rotated = ota("update", "m-other-key.json", "--trusted-key",
        otherKeys.resolve(KeygenCommand.PUBLIC).toString());
    assertThat(rotated.exitCode()).as(rotated.all()).isZero();
  }

  @Test
  void withoutATrustedKeyAManifestIsRefusedWithExit2AndASentenceNamingBothWays() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    for (String command : new String[] {"update", "check"}) {
      OtaProcess.Run run = otaWithoutKey(command, "m-2.0.0.json");
      assertThat(run.exitCode()).as(run.all()).isEqualTo(2);
      assertThat(run.errorLine()).contains("no --trusted-key was given").contains("--trusted-key FILE")
          .contains("--no-signature-check");
    }
    assertThat(status().get("next").asText()).isEqualTo("a");
    assertThat(status().at("/slots/b/state").asText()).isEqualTo("empty");
  }

  @Test
  void noSignatureCheckAcceptsAManifestKnowinglyAndWarnsOnEveryRun() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    OtaProcess.Run check = otaWithoutKey("check", "m-other-key.json", "--no-signature-check");
    assertThat(check.exitCode()).as(check.all()).isZero();
    assertThat(check.stderr()).contains("warning: manifest signatures are not checked (--no-signature-check)");
    OtaProcess.Run update = otaWithoutKey("update", "m-other-key.json", "--no-signature-check", "--json");
    assertThat(update.exitCode()).as(update.all()).isZero();
    assertThat(update.stderr()).contains("warning: manifest signatures are not checked");
    JsonNode first = JSON.readTree(update.stdout().lines().findFirst().orElseThrow());
    assertThat(first.get("event").asText()).isEqualTo("warning");
    assertThat(first.get("message").asText()).contains("--no-signature-check");
    assertThat(status().at("/slots/b/version").asText()).isEqualTo("2.0.0");
    OtaProcess.Run both = ota("check", "m-2.0.0.json", "--no-signature-check");
    assertThat(both.exitCode()).as(both.all()).isEqualTo(2);
    assertThat(both.errorLine()).contains("not both");
  }

  @Test
  void keygenNeverOverwritesAKey() throws Exception {
    OtaProcess.Run run = OtaProcess.run("keygen", "--out", DEMO.keys().toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errorLine()).contains("never overwritten");
  }

}
