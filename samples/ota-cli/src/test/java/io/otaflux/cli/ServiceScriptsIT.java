package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the package's services run, with the settings of an /etc/default/otaflux: the boot
 * confirmation (otaflux-confirm.service) confirms a trial slot only when the health check
 * passes; the agent (otaflux-agent.service) hands the settings to {@code ota agent}.
 */
class ServiceScriptsIT {

  private static final Path SCRIPTS = Path.of("src/deb/data/libexec");
  @RegisterExtension
  static final DemoServer DEMO = new DemoServer("firmware-2.bin", DemoServer.random(256 * 1024, 3));

  @TempDir
  Path dir;

  private Path slots() {
    return dir.resolve("slots");
  }

  /** The launcher, with its archive in this test's directory (never the system's /var/cache/otaflux). */
  private OtaProcess.Run ota(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(Shell.TARGET.resolve("ota").toString()));
    command.addAll(List.of(args));
    OtaProcess.Run run = Shell.run(command, Map.of("JAVA_HOME", System.getProperty("java.home"),
        "OTA_CACHE_DIR", dir.resolve("cache").toString()));
    assertThat(run.exitCode()).as("%s\n%s", command, run.all()).isZero();
    return run;
  }

  /** A store whose running slot b is an unconfirmed trial, as after an update and the reboot into it. */
  private void bootedIntoATrial() throws Exception {
    ota(DEMO.update(DEMO.imageUrl(), slots()).toArray(String[]::new));
    assertThat(ota("boot", "--slots", slots().toString()).stdout().strip()).isEqualTo("b");
    assertThat(state("b")).isEqualTo("trial");
  }

  private String state(String slot) throws Exception {
    JsonNode status = new ObjectMapper().readTree(ota("status", "--slots", slots().toString(), "--json").stdout());
    return status.at("/slots/" + slot + "/state").asText();
  }

  private OtaProcess.Run script(String name, String settings) throws Exception {
    Path defaults = dir.resolve("otaflux.default");
    Files.writeString(defaults, settings);
    return Shell.run(List.of("sh", SCRIPTS.resolve(name).toString()), Map.of(
        "OTAFLUX_DEFAULTS", defaults.toString(),
        "OTAFLUX_OTA", Shell.TARGET.resolve("ota").toString(),
        "JAVA_HOME", System.getProperty("java.home"),
        "OTA_CACHE_DIR", dir.resolve("cache").toString()));
  }

  @Test
  void confirmationLeavesTheTrialUnconfirmedWhileTheHealthCheckFailsAndConfirmsItOnceItPasses() throws Exception {
    bootedIntoATrial();
    Path healthy = dir.resolve("healthy");
    String settings = "OTA_SLOTS=" + slots() + "\nOTA_HEALTH_CHECK=\"test -e " + healthy + "\"\n"
        + "OTA_HEALTH_TRIES=2\nOTA_HEALTH_INTERVAL=0\nOTA_ON_UNHEALTHY=\"touch " + dir.resolve("unhealthy") + "\"\n";

    OtaProcess.Run failing = script("confirm-boot", settings);
    assertThat(failing.exitCode()).isEqualTo(1);
    assertThat(failing.errorLine()).contains("health check failed 2 times", "slot b stays an unconfirmed trial");
    assertThat(state("b")).isEqualTo("trial");
    assertThat(dir.resolve("unhealthy")).as("OTA_ON_UNHEALTHY ran").exists();

    Files.createFile(healthy);
    OtaProcess.Run passing = script("confirm-boot", settings);
    assertThat(passing.exitCode()).as(passing.all()).isZero();
    assertThat(passing.stdout()).contains("health check passed (attempt 1): confirming slot b",
        "Slot b is good and boots next.");
    assertThat(state("b")).isEqualTo("good");
  }

  @Test
  void confirmationRunsNoCheckWhenTheRunningSlotIsNotATrial() throws Exception {
    ota("init", "--slots", slots().toString(), "--slot-size", "1M");
    Path ran = dir.resolve("check-ran");
    OtaProcess.Run run = script("confirm-boot", "OTA_SLOTS=" + slots() + "\nOTA_HEALTH_CHECK=\"touch " + ran + "; false\"\n");
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.stdout()).contains("slot a is good, not an unconfirmed trial: nothing to confirm");
    assertThat(ran).doesNotExist();
    assertThat(state("a")).isEqualTo("good");
  }

  @Test
  void agentWithoutAServerSaysWhichSettingIsMissing() throws Exception {
    OtaProcess.Run run = script("agent", "OTA_SLOTS=" + slots() + "\nOTA_SERVER=\n");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errorLine()).contains("set OTA_SERVER in " + dir.resolve("otaflux.default"));
  }

  @Test
  void agentHandsTheSettingsToOtaAgentAsSeparateArguments() throws Exception {
    // a command with a space stays one argument, and ota agent itself checks what it got:
    // a coaps server without a pre-shared key is refused with its own sentence
    OtaProcess.Run run = script("agent", "OTA_SLOTS=" + slots() + "\nOTA_SERVER=coaps://127.0.0.1:9\n"
        + "OTA_ENDPOINT=gw-0042\nOTA_ROOT_CERT=" + DEMO.rootPem() + "\nOTA_ON_UPDATE=\"systemctl reboot\"\n"
        + "OTA_AGENT_OPTS=\"--lifetime 60 --json\"\n");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errorLine()).isEqualTo("error: A coaps server needs --psk-identity and --psk-key-file.");
  }
}
