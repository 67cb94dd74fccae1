package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;
import io.otaflux.transport.testing.StaticFile;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --client-cert} / {@code --client-key} as processes, against a server that requires a client certificate. */
class ClientCertificateCommandIT {

  private static final TestPki PKI = TestPki.shared();
  private static TestServer server;
  private static byte[] image;
  private static Path work;

  @TempDir
  Path dir;

  @BeforeAll
  static void startServer(@TempDir Path tmp) throws Exception {
    work = tmp;
    image = new byte[700_000];
    new Random(20).nextBytes(image);
    server = TestServer.httpsRequiringClientCertificate(PKI.localhost(), PKI.root().certificate())
        .route("/fw.bin", StaticFile.of(image));
    Files.writeString(work.resolve("root.pem"), PKI.root().pem(), StandardCharsets.US_ASCII);
    PKI.intermediate().client("gw-0042").writePem(work.resolve("device.crt"), work.resolve("device.key"));
    PKI.unrelatedRoot().client("gw-stranger").writePem(work.resolve("stranger.crt"), work.resolve("stranger.key"));
    SigningKey publisher = SigningKey.generate();
    Files.writeString(work.resolve("publisher.pub.pem"), publisher.publicKey().pem(), StandardCharsets.US_ASCII);
    String manifest = Manifest.builder().version("2.0.0").url("fw.bin").image(image).sign(publisher).json();
    server.route("/m.json", StaticFile.of(manifest.getBytes(StandardCharsets.UTF_8)));
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  private OtaProcess.Run update(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("update", server.url("/fw.bin"), "--slots",
        dir.resolve("slots").toString(), "--root-cert", work.resolve("root.pem").toString(), "--no-progress",
        "--retries", "0"));
    args.addAll(List.of(extra));
    return OtaProcess.runWith(java.util.Map.of(), args.toArray(String[]::new));
  }

  private byte[] slotB() throws Exception {
    try (java.io.InputStream in = Files.newInputStream(dir.resolve("slots").resolve("slot-b.img"))) {
      return in.readNBytes(image.length);
    }
  }

  private static String file(String name) {
    return work.resolve(name).toString();
  }

  @Test
  void updatePresentsTheClientCertificateAndInstallsTheImage() throws Exception {
    OtaProcess.Run run = update("--client-cert", file("device.crt"), "--client-key", file("device.key"));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(slotB()).isEqualTo(image);
    assertThat(run.all()).doesNotContain(Files.readString(work.resolve("device.key")).lines().skip(1).findFirst()
        .orElseThrow());
  }

  @Test
  void aSignedManifestAndItsImageAreFetchedWithTheClientCertificate() throws Exception {
    OtaProcess.Run run = OtaProcess.runWith(java.util.Map.of(), "update", "--manifest", server.url("/m.json"),
        "--slots", dir.resolve("slots").toString(), "--root-cert", file("root.pem"), "--trusted-key",
        file("publisher.pub.pem"), "--no-progress",
        "--client-cert", file("device.crt"), "--client-key", file("device.key"));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(slotB()).isEqualTo(image);
  }

  @Test
  void withoutAClientCertificateTheServerRequiresOneExit3() throws Exception {
    OtaProcess.Run run = update("--json");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(3);
    assertThat(run.errorLine()).startsWith("error: localhost:" + server.port() + " requires a client certificate"
        + " (mutual TLS)").contains("--client-cert");
    assertThat(run.stdout()).contains("\"client_cert_required\"");
  }

  @Test
  void aCertificateTheServerDoesNotTrustIsRefusedExit3NamingIt() throws Exception {
    OtaProcess.Run run = update("--client-cert", file("stranger.crt"), "--client-key", file("stranger.key"), "--json");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(3);
    assertThat(run.errorLine()).startsWith("error: localhost:" + server.port() + " refused this device's client"
        + " certificate (CN=gw-stranger");
    assertThat(run.stdout()).contains("\"client_cert_refused\"");
  }

  @Test
  void aMissingUnreadableOrMismatchedPairIsAUsageErrorBeforeAnythingIsFetched() throws Exception {
    OtaProcess.Run alone = update("--client-cert", file("device.crt"));
    assertThat(alone.exitCode()).as(alone.all()).isEqualTo(2);
    assertThat(alone.errorLine()).isEqualTo("error: Give --client-cert and --client-key together: the certificate and"
        + " its private key.");

    OtaProcess.Run missing = update("--client-cert", file("device.crt"), "--client-key", file("nothing.key"));
    assertThat(missing.exitCode()).as(missing.all()).isEqualTo(2);
    assertThat(missing.errorLine()).startsWith("error: The client key file " + file("nothing.key") + " cannot be read");

    OtaProcess.Run mismatched = update("--client-cert", file("device.crt"), "--client-key", file("stranger.key"));
    assertThat(mismatched.exitCode()).as(mismatched.all()).isEqualTo(2);
    assertThat(mismatched.errorLine()).startsWith("error: The client certificate and key do not match")
        .contains(file("stranger.key"), file("device.crt"));

    OtaProcess.Run hawkbit = OtaProcess.run("hawkbit", "--server", "https://localhost:" + server.port(),
        "--controller-id", "gw-0042", "--target-token-file", file("root.pem"), "--slots",
        dir.resolve("hb-slots").toString(), "--client-cert", file("device.crt"), "--client-key", file("stranger.key"));
    assertThat(hawkbit.exitCode()).as(hawkbit.all()).isEqualTo(2);
    assertThat(hawkbit.errorLine()).startsWith("error: The client certificate and key do not match");
    assertThat(dir.resolve("hb-slots")).as("nothing was set up").doesNotExist();
    assertThat(server.requests()).noneMatch(r -> r.path().startsWith("/DEFAULT"));
  }
}
