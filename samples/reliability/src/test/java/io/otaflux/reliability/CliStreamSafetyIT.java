package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.PKI;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.OldTlsServer;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;


/**
 * Issue 14's stream and transport items as a user meets them: {@code ota update} as a process
 * against a server whose file changes under a resume, a silent TLS peer with {@code --timeout 1s},
 * an outdated TLS server, a server asking to wait forever, and a signed URL with user-info.
 */
@ExtendWith(NoLeaks.class)
class CliStreamSafetyIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MIB = 1024 * 1024;
  private static Path rootPem;
  private final List<AutoCloseable> servers = new ArrayList<>();

  @TempDir
  Path dir;

  @BeforeAll
  static void pem(@TempDir Path certs) throws Exception {
    rootPem = certs.resolve("root.pem");
    Files.writeString(rootPem, PKI.root().pem(), StandardCharsets.US_ASCII);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable s : servers) {
      s.close();
    }
  }

  private <T extends AutoCloseable> T add(T server) {
    servers.add(server);
    return server;
  }

  private Path slots() throws Exception {
    Path slots = dir.resolve("slots");
    Ota.Run init = Ota.run("init", "--slots", slots.toString(), "--slot-size", "16M");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    return slots;
  }

  private static Ota.Run update(Path slots, String url, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("update", url, "--slots", slots.toString(), "--root-cert",
        rootPem.toString(), "--no-progress"));
    args.addAll(List.of(extra));
    return Ota.run(args.toArray(String[]::new));
  }

  private static JsonNode status(Path slots) throws Exception {
    return JSON.readTree(Ota.run("status", "--slots", slots.toString(), "--json").stdout());
  }

  private static void assertNothingActivated(Path slots) throws Exception {
    JsonNode status = status(slots);
    assertThat(status.get("next").asText()).as(status.toString()).isEqualTo(status.get("active").asText());
    assertThat(status.at("/slots/b/state").asText()).as(status.toString()).isNotEqualTo("trial");
  }

  /** {@code run}, an update into {@code slots}, failed with {@code exitCode}, its error line naming {@code words}; nothing activated. */
  private static void assertFailed(Path slots, Ota.Run run, int exitCode, String... words) throws Exception {
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(exitCode);
    Sentence.check(run.errorLine(), words);
    assertNothingActivated(slots);
  }

  @Test
  @DisplayName("CLI: image changed behind a 206")
  @Case(category = "integrity", fault = "ota update; 200 with ETag \"v1\" cut after 9 MiB of 10 MiB, then 206 with ETag \"v2\" and another image's bytes; no --sha256, no manifest", outcome = "exit 0; slot b holds the new image byte-exact, never a mix")
  void imageChangedBehindAPartialAnswer() throws Exception {
    byte[] v2 = Bench.image(10 * MIB, 52);
    TestServer server = add(TestServer.https(PKI.localhost())).route("/fw.bin",
        StreamSafetyMatrixTest.replacedBehindARange(Bench.image(10 * MIB, 51), 9 * MIB, v2, "\"v2\"", v2.length));
    Path slots = slots();
    Ota.Run run = update(slots, server.url("/fw.bin"), "--timeout", "5s");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(status(slots).at("/slots/b/sha256").asText()).isEqualTo(Sha256.digest(v2).hex());
    byte[] slot = Files.readAllBytes(slots.resolve("slot-b.img"));
    assertThat(Sha256.digest(Arrays.copyOf(slot, v2.length))).isEqualTo(Sha256.digest(v2));
    assertThat(server.requests()).extracting(r -> r.header("Range") == null).startsWith(true, false, true);
  }

  @Test
  @DisplayName("CLI: silent TLS peer, --timeout 1s")
  @Case(category = "trust", fault = "ota update --timeout 1s --retries 0 against a TCP peer that accepts and never answers the handshake", outcome = "exit 4 within seconds (not 30 s); error: names the handshake and 1 s")
  void silentPeerWithShortTimeout() throws Exception {
    TestServer silent = add(TestServer.silent());
    Path slots = slots();
    long start = System.nanoTime(); // the update alone: init and status are processes of their own
    Ota.Run run = update(slots, silent.url("/fw.bin"), "--timeout", "1s", "--retries", "0");
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertFailed(slots, run, 4, "handshake", "1 s");
    assertThat(took).as("far below the old 30 s handshake timeout").isLessThan(Duration.ofSeconds(20));
  }

  @Test
  @DisplayName("CLI: TLS 1.1 only server")
  @Case(category = "trust", fault = "ota update against OpenSSL s_server -tls1_1", outcome = "exit 3; error: says TLS 1.2 or newer is required")
  void tls11Only() throws Exception {
    OldTlsServer old = add(OldTlsServer.start(PKI.localhost()));
    Path slots = slots();
    assertFailed(slots, update(slots, old.url("/fw.bin"), "--timeout", "5s"), 3, "TLS 1.2 or newer is required");
  }

  @Test
  @DisplayName("CLI: Retry-After beyond any clock")
  @Case(category = "protocol", fault = "ota update --retries 1; every answer is 503 with Retry-After: 9223372036854775807", outcome = "exit 5 after one capped wait (not exit 1 ArithmeticException); the retry line says the wait was cut to 30 s")
  void retryAfterBeyondAnyClock() throws Exception {
    TestServer server = add(TestServer.https(PKI.localhost()))
        .route("/fw.bin", Routes.status(503, Map.of("Retry-After", "9223372036854775807")));
    Path slots = slots();
    Ota.Run run = update(slots, server.url("/fw.bin"), "--retries", "1", "--timeout", "5s");
    assertFailed(slots, run, 5, "503");
    assertThat(run.stderr()).contains("Retrying").contains("waiting 30 s instead");
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  @DisplayName("CLI: signed URL with user-info")
  @Case(category = "redirects", fault = "ota update https://u:p@host/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1", outcome = "exit 0; the server sees /a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1 byte for byte, with basic auth")
  void signedUrlWithUserInfo() throws Exception {
    byte[] image = Bench.image(300_000, 53);
    RawHttpsServer server = add(RawHttpsServer.start(PKI.localhost(), (head, n) -> RawHttpsServer.answer(
        "HTTP/1.1 200 OK\r\nContent-Length: " + image.length + "\r\n\r\n", image)));
    String target = "/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1";
    Path slots = slots();
    Ota.Run run = update(slots, "https://u:p@localhost:" + server.port() + target);
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    String head = server.heads().get(0);
    assertThat(head.substring(0, head.indexOf("\r\n"))).isEqualTo("GET " + target + " HTTP/1.1");
    assertThat(head).containsIgnoringCase("authorization: basic");
    assertThat(run.stderr()).doesNotContain("u:p@");
  }

  @Test
  @DisplayName("CLI: link breaking every MiB")
  @Case(category = "protocol", fault = "ota update with the default 3 retries through a TCP proxy that cuts every connection after 1 MiB; a 6 MiB image", outcome = "exit 0; slot b holds the image; 7 or 8 connections")
  void linkBreakingEveryMegabyte() throws Exception {
    byte[] image = Bench.image(6 * MIB, 54);
    TestServer server = add(TestServer.https(PKI.localhost())).route("/fw.bin", Routes.image(image));
    io.otaflux.transport.testing.FaultProxy proxy = add(io.otaflux.transport.testing.FaultProxy.start(server.port(),
        new io.otaflux.transport.testing.FaultProxy.Fault.Cut(MIB)));
    Path slots = slots();
    Ota.Run run = update(slots, proxy.url("/fw.bin"), "--timeout", "5s");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(status(slots).at("/slots/b/sha256").asText()).isEqualTo(Sha256.digest(image).hex());
    assertThat(proxy.connections()).isBetween(7, 8);
    assertThat(proxy.bytesToClients()).isLessThanOrEqualTo(image.length + image.length / 25);
  }
}
