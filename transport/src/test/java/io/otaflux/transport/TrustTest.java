package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.test.StepVerifier;

@ExtendWith(NoLeaks.class)
class TrustTest {

  @RegisterExtension
  final Servers servers = new Servers();

  private final byte[] image = Servers.image(40_000);

  private TestServer serving(TestPki.Identity identity) {
    return servers.https(identity).route("/fw.bin", Routes.image(image));
  }

  private static TrustAnchors anchors(TestPki.Ca... cas) {
    return TrustAnchors.of(java.util.Arrays.stream(cas).map(TestPki.Ca::certificate).toList());
  }

  private ImageDownload opens(HttpsFirmwareSource source, TestServer server) {
    ImageDownload download = source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download).isNotNull();
    return download;
  }

  private OtaException refuses(HttpsFirmwareSource source, TestServer server) {
    OtaException[] failure = new OtaException[1];
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin"))
            .withCredentials(Credentials.bearer("s3cret-token")), ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure[0] = otaFailure(e, Reason.TRUST))
        .verify(TIMEOUT);
    assertThat(failure[0].isTransient()).isFalse();
    assertThat(failure[0].getMessage()).doesNotContain("s3cret-token");
    assertThat(server.requests()).as("no request reaches an untrusted server").isEmpty();
    return failure[0];
  }

  @Test
  void trustsAChainLeadingToTheRootAnchor() {
    TestServer server = serving(PKI.localhost());
    ImageDownload download = opens(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(download.warnings()).isEmpty();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }

  @Test
  void trustsAnIntermediateAsTheOnlyAnchor() {
    TestServer server = serving(PKI.localhost());
    ImageDownload download = opens(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.intermediate())), server);
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }

  @Test
  void trustsAnyOfSeveralAnchorsSoARootCanRotate() {
    TestServer server = serving(PKI.localhost());
    TrustAnchors rotating = TrustAnchors.fromPem(PKI.unrelatedRoot().pem()).and(TrustAnchors.fromPem(PKI.root().pem()));
    ImageDownload download = opens(HttpsFirmwareSource.create().trustAnchors(rotating), server);
    download.discard();
  }

  @Test
  void aBackupPinPassesWhenThePrimaryPinMatchesNothing() {
    TestServer server = serving(PKI.localhost());
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root()))
        .pin(SpkiPin.of(PKI.unrelatedRoot().certificate()))
        .pin(SpkiPin.of(PKI.root().certificate()));
    assertThat(FirmwareBytes.readAll(opens(source, server))).isEqualTo(image);
  }

  @Test
  void aPinOfTheLeafKeyPasses() {
    TestPki.Identity identity = PKI.localhost();
    TestServer server = serving(identity);
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root()))
        .pins(List.of(SpkiPin.of(identity.leaf())));
    opens(source, server).discard();
  }

  @Test
  void aPinMismatchIsRefusedListingTheChainsPins() {
    TestPki.Identity identity = PKI.localhost();
    TestServer server = serving(identity);
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root()))
        .pin(SpkiPin.of(PKI.unrelatedRoot().certificate()));
    OtaException e = refuses(source, server);
    assertThat(e.getMessage())
        .contains("None of the pinned keys")
        .contains(SpkiPin.of(identity.leaf()).toString())
        .contains(SpkiPin.of(PKI.intermediate().certificate()).toString())
        .contains(SpkiPin.of(PKI.root().certificate()).toString());
    assertThat(e.detail()).isEqualTo(OtaException.Detail.PIN_MISMATCH);
  }

  @Test
  void pinsAreCheckedAgainstTheValidatedChainNotTheCertificatesSent() {
    TestServer server = serving(PKI.localhostWithStrayCertificate());
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root()))
        .pin(SpkiPin.of(PKI.unrelatedRoot().certificate()));
    OtaException e = refuses(source, server);
    assertThat(e.getMessage()).contains("None of the pinned keys");
  }

  @Test
  void anEmptyPinSetFailsClosed() {
    TestServer server = serving(PKI.localhost());
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())).pins(List.of());
    OtaException e = refuses(source, server);
    assertThat(e.getMessage()).contains("no pin was given");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.PIN_MISMATCH);
  }

  @Test
  void aSameNameCaWithAnotherKeyIsRefusedAsInterception() {
    TestServer server = serving(PKI.mitmLocalhost());
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(e.getMessage()).contains(TestPki.ROOT_NAME).contains("not with the key");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.UNTRUSTED_CHAIN);
  }

  @Test
  void aSameNameIntermediateWithAnotherKeyIsRefusedWhenTheIntermediateIsTheAnchor() {
    TestServer server = serving(PKI.mitmLocalhost());
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.intermediate())), server);
    assertThat(e.getMessage()).contains(TestPki.INTERMEDIATE_NAME).contains("not with the key");
  }

  @Test
  void anUnrelatedCaIsRefusedNamingTheIssuer() {
    TestServer server = serving(PKI.unrelatedLocalhost());
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(e.getMessage()).contains("issued by \"CN=Unrelated Test Root,O=Elsewhere\"")
        .contains("CN=OtaFlux Test Root");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.UNTRUSTED_CHAIN);
  }

  @Test
  void theJdkDefaultAnchorsRefuseThePrivateTestCa() {
    TestServer server = serving(PKI.localhost());
    OtaException e = refuses(HttpsFirmwareSource.create(), server);
    assertThat(e.getMessage()).contains("JDK's default trust store");
  }

  @Test
  void aValidChainForAnotherHostNameIsRefused() {
    TestServer server = serving(PKI.otherHost());
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(e.getMessage()).contains("is for other.example, not for localhost");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.HOST_MISMATCH);
  }

  @Test
  void anExpiredLeafIsRefusedWithItsDate() {
    TestPki.Identity identity = PKI.expiredLocalhost();
    TestServer server = serving(identity);
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(e.getMessage()).contains("expired on " + identity.leaf().getNotAfter().toInstant());
    assertThat(e.detail()).isEqualTo(OtaException.Detail.CERTIFICATE_DATES);
  }

  @Test
  void aNotYetValidLeafIsRefused() {
    TestPki.Identity identity = PKI.notYetValidLocalhost();
    TestServer server = serving(identity);
    OtaException e = refuses(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.root())), server);
    assertThat(e.getMessage()).contains("not valid before " + identity.leaf().getNotBefore().toInstant());
  }

  @Test
  void anExpiredAnchorIsStillUsedButWarnedAbout() {
    TestServer server = serving(PKI.localhostUnderExpiredRoot());
    ImageDownload download = opens(HttpsFirmwareSource.create().trustAnchors(anchors(PKI.expiredRoot())), server);
    assertThat(download.warnings()).singleElement().asString()
        .contains("CN=Expired Test Root").contains("expired on");
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }
}
