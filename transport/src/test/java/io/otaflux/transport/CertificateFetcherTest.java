package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.FetchedCertificate.AnchorSource;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import reactor.test.StepVerifier;

@ExtendWith(NoLeaks.class)
class CertificateFetcherTest {

  @RegisterExtension
  final Servers servers = new Servers();

  @TempDir
  Path dir;

  private final byte[] image = Servers.image(10_000);

  private FetchedCertificate fetch(CertificateFetcher fetcher, String url) {
    FetchedCertificate fetched = fetcher.fetch(url).block(TIMEOUT);
    assertThat(fetched).isNotNull();
    return fetched;
  }

  @Test
  void savesTheSelfSignedRootWhenTheServerSendsIt() {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(fetched.anchorSource()).isEqualTo(AnchorSource.SENT_BY_SERVER);
    assertThat(fetched.anchor()).isEqualTo(PKI.root().certificate());
    assertThat(fetched.presentedChain()).hasSize(3);
    assertThat(fetched.subject()).isEqualTo(PKI.root().certificate().getSubjectX500Principal().getName());
    assertThat(fetched.issuer()).isEqualTo(fetched.subject());
    assertThat(fetched.notAfter()).isEqualTo(PKI.root().certificate().getNotAfter().toInstant());
    assertThat(fetched.pin()).isEqualTo(SpkiPin.of(PKI.root().certificate()));
    assertThat(fetched.warnings()).singleElement().asString().contains("trust on first use");
  }

  @Test
  void looksTheRootUpInTheGivenBundleWhenOnlyTheIntermediateIsSent() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    TrustAnchors bundle = TrustAnchors.fromPem(PKI.unrelatedRoot().pem() + PKI.root().pem());
    FetchedCertificate fetched = fetch(CertificateFetcher.create().trustStore(bundle), server.url("/fw.bin"));
    assertThat(fetched.anchorSource()).isEqualTo(AnchorSource.GIVEN_TRUST_STORE);
    assertThat(fetched.anchor()).isEqualTo(PKI.root().certificate());
    assertThat(fetched.warnings()).hasSize(1);
  }

  @Test
  void fallsBackToTheTopmostPresentedCertificateWithAWarning() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(fetched.anchorSource()).isEqualTo(AnchorSource.TOPMOST_PRESENTED);
    assertThat(fetched.anchor()).isEqualTo(PKI.intermediate().certificate());
    assertThat(fetched.warnings()).anySatisfy(w -> assertThat(w).contains("is not a root")
        .contains("will change when the server's intermediate does"));
  }

  @Test
  void theTopmostIntermediateSavedWithoutARootStillWorksAsAnAnchor() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    Path saved = fetched.writeTo(dir, CertificateFormat.PEM);
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(saved))
        .pin(fetched.pin());
    assertThat(FirmwareBytes.readAll(source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start())
        .block(TIMEOUT))).isEqualTo(image);
  }

  @Test
  void followsRedirectsToTheEffectiveHostAndReadsItsChain() {
    TestServer mirror = servers.https(PKI.localhostUnderExpiringRootWithRoot()).route("/files/fw.bin",
        Routes.image(image));
    TestServer front = servers.https(PKI.localhostWithRoot())
        .route("/fw.bin", Routes.redirect(302, mirror.url("/files/fw.bin").replace("localhost", "127.0.0.1")));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), front.url("/fw.bin"));
    assertThat(fetched.effectiveUri()).isEqualTo(URI.create("https://127.0.0.1:" + mirror.port() + "/files/fw.bin"));
    assertThat(fetched.host()).isEqualTo("127.0.0.1");
    assertThat(fetched.anchor()).isEqualTo(PKI.expiringRoot().certificate());
    assertThat(fetched.fileName(CertificateFormat.PEM)).isEqualTo("127_0_0_1.pem");
  }

  @Test
  void warnsWhenTheAnchorExpiresWithinNinetyDays() {
    TestServer server = servers.https(PKI.localhostUnderExpiringRootWithRoot()).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(fetched.warnings()).anySatisfy(w -> assertThat(w).contains("CN=Expiring Test Root")
        .contains("expires on").containsPattern("in (29|30) days"));
  }

  @Test
  void doesNotWarnOfExpiryMoreThanNinetyDaysAhead() {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    Instant now = Instant.now();
    FetchedCertificate today = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(today.warnings()).noneSatisfy(w -> assertThat(w).contains("expire"));
    Instant late = PKI.root().certificate().getNotAfter().toInstant().minus(Duration.ofDays(10));
    FetchedCertificate later = fetch(CertificateFetcher.create().clock(Clock.fixed(late, ZoneOffset.UTC)),
        server.url("/fw.bin"));
    assertThat(later.warnings()).anySatisfy(w -> assertThat(w).contains("in 10 days"));
    assertThat(later.fetchedAt()).isEqualTo(late).isAfter(now);
  }

  @Test
  void writesTheOriginalCHeaderNamedAfterTheHost() throws Exception {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create()
        .clock(Clock.fixed(Instant.parse("2026-11-25T12:00:00Z"), ZoneOffset.UTC)), server.url("/fw.bin"));
    Path file = fetched.writeTo(dir, CertificateFormat.C_HEADER);
    assertThat(file.getFileName().toString()).isEqualTo("localhost.h");
    List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
    assertThat(lines.get(0)).isEqualTo("// This is the root certificate include file for localhost");
    assertThat(lines.get(1)).isEqualTo("// as obtained by ota get-cert on: Wed Nov 25 12:00:00 UTC 2026");
    assertThat(lines).contains("//     subject= " + fetched.subject(), "//     issuer= " + fetched.issuer(),
        "//     pin= " + fetched.pin());
    assertThat(lines).anySatisfy(l -> assertThat(l).matches("//     notAfter= [A-Z][a-z]{2} [ 1-3][0-9] \\d\\d:\\d\\d:\\d\\d \\d{4} GMT"));
    int start = lines.indexOf("const char* root_cert = \\");
    assertThat(start).isPositive();
    assertThat(lines.get(start + 1)).isEqualTo("  \"-----BEGIN CERTIFICATE-----\\n\" \\");
    assertThat(lines.get(lines.size() - 1)).isEqualTo("  \"-----END CERTIFICATE-----\\n\";");
    assertThat(lines.subList(start + 2, lines.size() - 1))
        .allSatisfy(l -> assertThat(l).matches("  \"[A-Za-z0-9+/=]{1,64}\\\\n\" \\\\"));
    // the header is itself a trust anchor file, as the original's root_cert was
    assertThat(TrustAnchors.fromPemFile(file).certificates()).containsExactly(PKI.root().certificate());
  }

  @Test
  void writesPemWithACommentHeaderThatParsesBack() throws Exception {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    Path file = fetched.writeTo(dir.resolve("out"), CertificateFormat.PEM);
    assertThat(file).isEqualTo(dir.resolve("out").resolve("localhost.pem"));
    String text = Files.readString(file);
    assertThat(text).startsWith("# Root certificate for localhost\n").contains("#     subject= " + fetched.subject())
        .contains("#     notAfter= ").contains("trust on first use").contains("-----BEGIN CERTIFICATE-----\n");
    assertThat(TrustAnchors.fromPemFile(file).certificates()).containsExactly(PKI.root().certificate());
  }

  @Test
  void aStraySelfSignedCertificateIsNotTakenAsTheRoot() {
    TestServer server = servers.https(PKI.localhostWithStrayCertificate()).route("/fw.bin", Routes.image(image));
    FetchedCertificate alone = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(alone.anchor()).isNotEqualTo(PKI.unrelatedRoot().certificate()).isEqualTo(PKI.intermediate().certificate());
    assertThat(alone.anchorSource()).isEqualTo(AnchorSource.TOPMOST_PRESENTED);
    assertThat(alone.warnings()).anySatisfy(w -> assertThat(w).contains("CN=Unrelated Test Root")
        .contains("did not issue its chain"));
    FetchedCertificate withBundle = fetch(CertificateFetcher.create().trustStore(TrustAnchors.fromPem(PKI.root().pem())),
        server.url("/fw.bin"));
    assertThat(withBundle.anchor()).isEqualTo(PKI.root().certificate());
    assertThat(withBundle.anchorSource()).isEqualTo(AnchorSource.GIVEN_TRUST_STORE);
    // what was saved really anchors the server's chain
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(TrustAnchors.of(List.of(withBundle.anchor())))
        .pin(withBundle.pin());
    assertThat(FirmwareBytes.readAll(source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start())
        .block(TIMEOUT))).isEqualTo(image);
  }

  @Test
  void writesARootWithANonAsciiNameAsUtf8InBothFormats() throws Exception {
    TestPki.Ca zurich = PKI.newRoot("CN=Zürich Wurzel-CA,O=OtaFlux Tests");
    TestServer server = servers.https(PKI.localhostUnderWithRoot(zurich)).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    assertThat(fetched.anchor()).isEqualTo(zurich.certificate());
    for (CertificateFormat format : CertificateFormat.values()) {
      Path file = fetched.writeTo(dir, format);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      assertThat(text).contains("subject= CN=Zürich Wurzel-CA,O=OtaFlux Tests");
      String body = text.substring(text.indexOf("-----BEGIN CERTIFICATE-----"));
      assertThat(body.chars()).allMatch(c -> c < 0x80);
      assertThat(TrustAnchors.fromPemFile(file).certificates()).containsExactly(zurich.certificate());
    }
  }

  @Test
  void onlyAPermissionErrorBlamesPermissions() {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    FetchedCertificate fetched = fetch(CertificateFetcher.create(), server.url("/fw.bin"));
    Path notADirectory = dir.resolve("file");
    assertThatThrownBy(() -> {
      Files.writeString(notADirectory, "x");
      fetched.writeTo(notADirectory, CertificateFormat.PEM);
    }).isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(OtaException.Detail.IO_ERROR))
        .hasMessageContaining("exists and is not a directory").hasMessageNotContaining("permission");
    // sysfs refuses new files with EACCES, even to root
    assertThatThrownBy(() -> fetched.writeTo(Path.of("/sys"), CertificateFormat.PEM))
        .isInstanceOf(OtaException.class).hasMessageContaining("permission denied")
        .hasMessageContaining("Check the permissions of /sys");
  }

  @Test
  void aRedirectToPlainHttpIsAPolicyFailure() {
    TestServer plain = servers.plainHttp();
    TestServer front = servers.https().route("/fw.bin", Routes.redirect(301, plain.url("/fw.bin")));
    StepVerifier.create(CertificateFetcher.create().fetch(front.url("/fw.bin")))
        .expectErrorSatisfies(e -> otaFailure(e, Reason.POLICY))
        .verify(TIMEOUT);
    assertThat(plain.connections()).isZero();
  }

  @Test
  void sendsNoCredentialsOverTheUnvalidatedConnection() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    fetch(CertificateFetcher.create(), server.url("/fw.bin").replace("https://", "https://alice:secret@"));
    assertThat(server.requests()).singleElement().satisfies(r -> assertThat(r.header("Authorization")).isNull());
  }
}
