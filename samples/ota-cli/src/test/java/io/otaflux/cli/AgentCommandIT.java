package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.lwm2m.DmServer;
import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;

import org.eclipse.leshan.core.ResponseCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Flux;

/** {@code ota agent} as a process, driven by a real Leshan server over DTLS with a pre-shared key. */
class AgentCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final byte[] KEY = "a-key-nobody-may-see".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path dir;

  private DmServer dm;
  private FirmwareServer firmware;

  @BeforeEach
  void servers() throws Exception {
    firmware = FirmwareServer.start();
    dm = DmServer.start();
    dm.addPsk("cli-gw", "cli-gw", KEY);
  }

  @AfterEach
  void stop() {
    dm.close();
    firmware.close();
  }

  private Object read(String path) throws InterruptedException {
    return dm.read("cli-gw", path);
  }

  /** Waits until the server has answered the registration of cli-gw. */
  private void awaitRegistered() {
    assertThat(dm.registrations("cli-gw").blockFirst(WAIT)).isNotBlank();
  }

  private void awaitState(long state) {
    Flux.interval(Duration.ofMillis(50)).filter(t -> {
      try {
        return Long.valueOf(state).equals(read("/5/0/3"));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }).blockFirst(WAIT);
  }

  @Test
  void theAgentInstallsWhatTheServerAsksRunsOnUpdateAndDeregistersOnSigterm() throws Exception {
    byte[] image = new byte[300 * 1024 + 5];
    new Random(3).nextBytes(image);
    String url = firmware.publish("gw-2.bin", image).toString();
    Path root = dir.resolve("root.pem");
    Files.writeString(root, DemoPki.pem(firmware.pki().root()), StandardCharsets.US_ASCII);
    Path keyFile = dir.resolve("psk.hex");
    Files.writeString(keyFile, HexFormat.of().formatHex(KEY) + "\n", StandardCharsets.US_ASCII);
    Path slots = dir.resolve("slots");
    Path rebooted = dir.resolve("rebooted");
    int port = dm.coapsUri().getPort();

    Process agent = OtaProcess.start("agent", "--server", "coaps://127.0.0.1:" + port, "--endpoint", "cli-gw",
        "--slots", slots.toString(), "--psk-identity", "cli-gw", "--psk-key-file", keyFile.toString(),
        "--root-cert", root.toString(), "--on-update", "touch " + rebooted, "--lifetime", "60", "--json");
    awaitRegistered();
    assertThat(read("/3/0/2")).isEqualTo("cli-gw");

    assertThat(dm.writePackageUri("cli-gw", url).getCode())
        .isEqualTo(ResponseCode.CHANGED);
    awaitState(2);
    assertThat(dm.executeUpdate("cli-gw").getCode())
        .isEqualTo(ResponseCode.CHANGED);
    awaitState(0);
    Flux.interval(Duration.ofMillis(50)).filter(t -> Files.exists(rebooted)).blockFirst(WAIT);

    agent.destroy(); // SIGTERM
    OtaProcess.Run run = OtaProcess.finish(agent);
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(dm.device("cli-gw").deregistrations.asFlux().blockFirst(WAIT)).isEqualTo("deregistered");
    List<JsonNode> events = run.stdout().lines().map(AgentCommandIT::parse).toList();
    List<String> kinds = events.stream().map(e -> e.get("event").asText()
        + (e.has("state") ? e.get("state").asText() : "")).toList();
    assertThat(kinds).containsExactly("registered", "state1", "state2", "state3", "state0", "deregistered");
    assertThat(run.all()).doesNotContain(HexFormat.of().formatHex(KEY)).doesNotContain(new String(KEY,
        StandardCharsets.UTF_8));

    OtaProcess.Run status = OtaProcess.run("status", "--slots", slots.toString(), "--json");
    JsonNode s = JSON.readTree(status.stdout());
    assertThat(s.get("next").asText()).isEqualTo("b");
    assertThat(s.at("/slots/b/state").asText()).isEqualTo("trial");
    assertThat(s.at("/slots/b/sha256").asText()).isEqualTo(Sha256.digest(image).hex());
  }

  private Process agent(String scheme, String... extra) throws Exception {
    Path root = dir.resolve("root.pem");
    Files.writeString(root, DemoPki.pem(firmware.pki().root()), StandardCharsets.US_ASCII);
    Path keyFile = dir.resolve("psk.hex");
    Files.writeString(keyFile, HexFormat.of().formatHex(KEY) + "\n", StandardCharsets.US_ASCII);
    int port = dm.coapsUri().getPort();
    List<String> args = new java.util.ArrayList<>(List.of("agent", "--server", scheme + "://127.0.0.1:" + port,
        "--endpoint", "cli-gw", "--slots", dir.resolve("slots").toString(), "--psk-identity", "cli-gw",
        "--psk-key-file", keyFile.toString(), "--root-cert", root.toString(), "--lifetime", "60", "--json"));
    args.addAll(List.of(extra));
    return OtaProcess.start(args.toArray(String[]::new));
  }

  @Test
  void aManifestPackageUriWithoutATrustedKeyIsRefusedWithUpdateResult5AndASentence() throws Exception {
    byte[] image = new byte[10_000];
    new Random(5).nextBytes(image);
    String imageUrl = firmware.publish("gw-3.bin", image).toString();
    String manifest = io.otaflux.manifest.Manifest.builder().version("3.0.0").url(imageUrl).image(image)
        .sign(io.otaflux.manifest.SigningKey.generate()).json();
    String manifestUrl = firmware.publish("gw-3.json", manifest.getBytes(StandardCharsets.UTF_8)).toString();
    Process agent = agent("coaps");
    awaitRegistered();
    assertThat(dm.writePackageUri("cli-gw", manifestUrl).getCode())
        .isEqualTo(ResponseCode.CHANGED);
    Flux.interval(Duration.ofMillis(50)).filter(t -> {
      try {
        return Long.valueOf(5).equals(read("/5/0/5"));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }).blockFirst(WAIT);
    assertThat(read("/5/0/3")).isEqualTo(0L);
    agent.destroy();
    OtaProcess.Run run = OtaProcess.finish(agent);
    List<JsonNode> errors = run.stdout().lines().map(AgentCommandIT::parse)
        .filter(e -> e.get("event").asText().equals("error")).toList();
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.get("reason").asText()).isEqualTo("usage");
      assertThat(e.get("message").asText()).contains("no key is trusted").contains("--trusted-key")
          .contains("--no-signature-check");
    });
    JsonNode status = JSON.readTree(OtaProcess.run("status", "--slots", dir.resolve("slots").toString(), "--json")
        .stdout());
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("empty");
  }

  @Test
  void withNoSignatureCheckTheAgentWarnsWhenItStarts() throws Exception {
    Process agent = agent("coaps", "--no-signature-check");
    awaitRegistered();
    agent.destroy();
    OtaProcess.Run run = OtaProcess.finish(agent);
    assertThat(run.stderr()).contains("warning: manifest signatures are not checked (--no-signature-check)");
    assertThat(parse(run.stdout().lines().findFirst().orElseThrow()).get("event").asText()).isEqualTo("warning");
  }

  @Test
  void stoppedRightAfterRegisteringWithAnUpperCaseCoapsUriItDeregisteredAsTheServerSaw() throws Exception {
    Process agent = agent("COAPS");
    awaitRegistered();
    agent.destroy(); // SIGTERM right after the server answered the registration
    OtaProcess.Run run = OtaProcess.finish(agent);
    assertThat(run.exitCode()).as(run.all()).isZero();
    List<String> kinds = run.stdout().lines().map(AgentCommandIT::parse).map(e -> e.get("event").asText()).toList();
    assertThat(kinds).endsWith("deregistered");
    assertThat(dm.device("cli-gw").deregistrations.asFlux().blockFirst(WAIT)).isEqualTo("deregistered");
    assertThat(dm.isRegistered("cli-gw")).isFalse();
  }

  @Test
  void plainCoapWithoutInsecureCoapAndCoapsWithoutAKeyAreUsageErrors() throws Exception {
    OtaProcess.Run plain = OtaProcess.run("agent", "--server", "coap://127.0.0.1:5683", "--endpoint", "x", "--slots",
        dir.resolve("s").toString());
    assertThat(plain.exitCode()).as(plain.all()).isEqualTo(2);
    assertThat(plain.errorLine()).contains("coap");
    OtaProcess.Run noKey = OtaProcess.run("agent", "--server", "coaps://127.0.0.1:5684", "--endpoint", "x", "--slots",
        dir.resolve("s").toString());
    assertThat(noKey.exitCode()).as(noKey.all()).isEqualTo(2);
    assertThat(noKey.errorLine()).contains("--psk-identity");
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(line, e);
    }
  }
}
