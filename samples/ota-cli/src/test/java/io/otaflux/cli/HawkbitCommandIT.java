package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.hawkbit.testing.HawkbitServer;
import io.otaflux.hawkbit.testing.Mgmt;
import io.otaflux.transport.testing.Tinyproxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Flux;

/** {@code ota hawkbit} as a process against the real hawkBit server. */
@ExtendWith(HawkbitServer.class)
class HawkbitCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  private static String stdoutSoFar(Process process) {
    try {
      return OtaProcess.stdoutSoFar(process);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A target with its token (in a file), a slot store, and a forced assignment of an image. */
  private record Target(String id, String token, Path tokenFile, Path slots, Mgmt.Assigned assigned) {
  }

  private Target target(Mgmt mgmt, String prefix, String version, int size) throws Exception {
    String id = prefix + "-" + ProcessHandle.current().pid();
    String token = "cli-secret-" + id;
    mgmt.target(id, token);
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, token + "\n", StandardCharsets.UTF_8);
    Path slots = dir.resolve("slots");
    assertThat(OtaProcess.run("init", "--slots", slots.toString(), "--slot-size", "4M").exitCode()).isZero();
    byte[] image = new byte[size];
    new Random(size).nextBytes(image);
    return new Target(id, token, tokenFile, slots, mgmt.assign(id, prefix + "-fw-" + id, version, image, "forced",
        false, null));
  }

  @Test
  void installsWhatHawkbitAssignsAndReportsSuccessOnlyAfterMarkGoodThenStopsOnSigterm(HawkbitServer.Running server,
      Mgmt mgmt) throws Exception {
    Target target = target(mgmt, "cli", "5.0.0", 200_000);
    String id = target.id();
    String token = target.token();
    Path tokenFile = target.tokenFile();
    Path slots = target.slots();
    Mgmt.Assigned a = target.assigned();
    Path rebooted = dir.resolve("rebooted");

    Process client = OtaProcess.start("hawkbit", "--server", server.uri().toString(), "--controller-id", id,
        "--target-token-file", tokenFile.toString(), "--slots", slots.toString(),
        "--root-cert", server.certificate().toString(), "--on-update", "touch " + rebooted, "--json");
    Flux.interval(Duration.ofMillis(100)).filter(t -> Files.exists(rebooted)).blockFirst(WAIT);
    // the trial slot is the boot choice; hawkBit must not hear "success" before mark-good
    assertThat(mgmt.actionStatus(id, a.actionId())).isNotIn("finished", "error");
    assertThat(mgmt.updateStatus(id)).isEqualTo("pending");
    assertThat(OtaProcess.run("boot", "--slots", slots.toString()).stdout().strip()).isEqualTo("b");
    assertThat(OtaProcess.run("mark-good", "--slots", slots.toString()).exitCode()).isZero();
    Flux.interval(Duration.ofMillis(250)).filter(t -> mgmt.actionStatus(id, a.actionId()).equals("finished"))
        .blockFirst(WAIT);
    assertThat(mgmt.updateStatus(id)).isEqualTo("in_sync");

    client.destroy(); // SIGTERM
    OtaProcess.Run run = OtaProcess.finish(client);
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.all()).doesNotContain(token);
    List<String> kinds = run.stdout().lines().map(HawkbitCommandIT::parse)
        .map(e -> e.get("event").asText() + (e.has("execution") ? ":" + e.get("execution").asText() + "/"
            + e.get("finished").asText() : ""))
        .toList();
    assertThat(kinds).containsSubsequence("deployment", "feedback:proceeding/none", "feedback:downloaded/none",
        "feedback:proceeding/none", "feedback:closed/success");
  }

  @Test
  void throughAProxyWithAClientCertificateTheDdiCallsAndTheDownloadPresentItAndTheCredentialsStayHidden(
      HawkbitServer.Running server, Mgmt mgmt) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(server.asksForClientCertificates(), "a server attached by hand");
    Target target = target(mgmt, "cli-mtls", "5.1.0", 150_000);
    String id = target.id();
    Path rebooted = dir.resolve("rebooted");
    try (Tinyproxy proxy = Tinyproxy.start(dir, "gw", "pr0xy-s3cret", server.port)) {
      Process client = OtaProcess.start("hawkbit", "--server", server.uri().toString(), "--controller-id", id,
          "--target-token-file", target.tokenFile().toString(), "--slots", target.slots().toString(),
          "--root-cert", server.certificate().toString(), "--on-update", "touch " + rebooted, "--json",
          "--client-cert", server.device().certificate().toString(), "--client-key", server.device().key().toString(),
          "--proxy", "http://gw:pr0xy-s3cret@127.0.0.1:" + proxy.port());
      Flux.interval(Duration.ofMillis(100)).filter(t -> Files.exists(rebooted)).blockFirst(WAIT);
      client.destroy(); // SIGTERM
      OtaProcess.Run run = OtaProcess.finish(client);
      assertThat(run.exitCode()).as(run.all()).isZero();
      assertThat(run.all()).doesNotContain("pr0xy-s3cret").doesNotContain(target.token());
      assertThat(mgmt.history(id, target.assigned().actionId())).anyMatch(l -> l.startsWith("downloaded:"));
      assertThat(proxy.logOnceContains("CONNECT localhost:" + server.port, WAIT)).contains("CONNECT localhost:"
          + server.port);
      // hawkBit's access log: the polls and the artifact request came with the client certificate
      List<String> log = server.accessLogOnceContains("/controller/v1/" + id + "/softwaremodules/", WAIT);
      assertThat(log).filteredOn(l -> l.contains("/controller/v1/" + id)).isNotEmpty()
          .allMatch(l -> l.contains("cert=[Ljava.security.cert.X509Certificate;"));
      assertThat(log).filteredOn(l -> l.contains("/controller/v1/" + id + "/softwaremodules/")).isNotEmpty();
    }
  }

  @Test
  void aWrongTokenIsASentenceAndABackoffNotABusyLoop(HawkbitServer.Running server, Mgmt mgmt) throws Exception {
    String id = "cli-bad-" + ProcessHandle.current().pid();
    mgmt.target(id, "the-right-token");
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, "a-wrong-token\n", StandardCharsets.UTF_8);
    Process client = OtaProcess.start("hawkbit", "--server", server.uri().toString(), "--controller-id", id,
        "--target-token-file", tokenFile.toString(), "--slots", dir.resolve("slots").toString(),
        "--root-cert", server.certificate().toString(), "--json");
    Flux.interval(Duration.ofMillis(200)).filter(t -> stdoutSoFar(client).contains("\"error\"")).blockFirst(WAIT);
    client.destroy();
    OtaProcess.Run run = OtaProcess.finish(client);
    assertThat(run.exitCode()).as(run.all()).isZero();
    List<JsonNode> errors = run.stdout().lines().map(HawkbitCommandIT::parse)
        .filter(e -> e.get("event").asText().equals("error")).toList();
    assertThat(errors).isNotEmpty().hasSizeLessThan(4); // the first backoff step is 5 s
    assertThat(errors.get(0).get("detail").asText()).isEqualTo("http_status");
    assertThat(errors.get(0).get("message").asText()).contains("401", "token is wrong");
    assertThat(errors.get(0).get("retryInMs").asLong()).isGreaterThanOrEqualTo(5000);
    assertThat(run.all()).doesNotContain("a-wrong-token");
  }
}
