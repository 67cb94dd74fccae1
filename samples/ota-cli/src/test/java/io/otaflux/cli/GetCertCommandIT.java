package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.Pems;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ota get-cert} as a process against TLS servers presenting chosen chains. */
class GetCertCommandIT {

  private static final TestPki PKI = TestPki.shared();
  private static final byte[] IMAGE = "firmware".getBytes(StandardCharsets.US_ASCII);

  @TempDir
  Path dir;

  private static String subjectLine(OtaProcess.Run run) {
    return run.stdout().lines().filter(l -> l.startsWith("Subject:")).findFirst().orElseThrow();
  }

  @Test
  void savesARootWithANonAsciiNameAsUtf8() throws Exception {
    TestPki.Ca zurich = PKI.newRoot("CN=Zürich Wurzel-CA,O=OtaFlux Tests");
    try (TestServer server = TestServer.https(PKI.localhostUnderWithRoot(zurich)).route("/fw.bin",
        Routes.image(IMAGE))) {
      for (String format : new String[] {"pem", "c-header"}) {
        OtaProcess.Run run = OtaProcess.run("get-cert", server.url("/fw.bin"), "--out", dir.toString(), "--format",
            format);
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(subjectLine(run)).contains("CN=Zürich Wurzel-CA");
        Path file = dir.resolve(format.equals("pem") ? "localhost.pem" : "localhost.h");
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).contains("subject= CN=Zürich Wurzel-CA");
        assertThat(TrustAnchors.fromPemFile(file).certificates()).containsExactly(zurich.certificate());
      }
    }
  }

  @Test
  void aStraySelfSignedCertificateIsNotSavedAsTheRoot() throws Exception {
    Path bundle = dir.resolve("bundle.pem");
    Files.writeString(bundle, Pems.of(PKI.unrelatedRoot().certificate(), PKI.root().certificate()));
    try (TestServer server = TestServer.https(PKI.localhostWithStrayCertificate()).route("/fw.bin",
        Routes.image(IMAGE))) {
      OtaProcess.Run run = OtaProcess.run("get-cert", server.url("/fw.bin"), "--out", dir.toString(),
          "--trust-store", bundle.toString());
      assertThat(run.exitCode()).as(run.all()).isZero();
      assertThat(subjectLine(run)).contains(TestPki.ROOT_NAME).doesNotContain("Unrelated");
      assertThat(run.stderr()).contains("CN=Unrelated Test Root").contains("did not issue its chain");
      List<X509Certificate> saved = TrustAnchors.fromPemFile(dir.resolve("localhost.pem")).certificates();
      assertThat(saved).containsExactly(PKI.root().certificate());
    }
  }

  @Test
  void onlyAPermissionErrorBlamesPermissions() throws Exception {
    try (TestServer server = TestServer.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(IMAGE))) {
      Path file = dir.resolve("a-file");
      Files.writeString(file, "x");
      OtaProcess.Run notADirectory = OtaProcess.run("get-cert", server.url("/fw.bin"), "--out", file.toString());
      assertThat(notADirectory.exitCode()).as(notADirectory.all()).isEqualTo(7);
      assertThat(notADirectory.errorLine()).contains("exists and is not a directory").doesNotContain("permission");
      // sysfs refuses new files with EACCES, even to root
      OtaProcess.Run denied = OtaProcess.run("get-cert", server.url("/fw.bin"), "--out", "/sys");
      assertThat(denied.exitCode()).as(denied.all()).isEqualTo(7);
      assertThat(denied.errorLine()).contains("permission denied").contains("Check the permissions of /sys");
    }
  }

  @Test
  void aCHeaderWithTheRootOnOneLongLineIsReadAsTheRootCertificate() throws Exception {
    String oneLine = Pems.of(PKI.root().certificate(), PKI.unrelatedRoot().certificate(), PKI.mitmRoot()
        .certificate()).replace("\n", "\\n");
    Path header = dir.resolve("one_line.h");
    Files.writeString(header, "const char* root_cert = \"" + oneLine.repeat(2) + "\";\n");
    try (TestServer server = TestServer.https(PKI.localhost()).route("/fw.bin", Routes.image(IMAGE))) {
      OtaProcess.Run run = OtaProcess.run("update", server.url("/fw.bin"), "--slots", dir.resolve("slots").toString(),
          "--root-cert", header.toString(), "--no-progress");
      assertThat(run.exitCode()).as(run.all()).isZero();
    }
  }
}
