package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.PKI;
import static io.otaflux.reliability.Bench.fails;
import static io.otaflux.reliability.Bench.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.transport.CertificateFetcher;
import io.otaflux.transport.FetchedCertificate;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.SpkiPin;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.Pems;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** TLS and trust: every server the device must not believe. */
class TrustMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(200_000, 1);

  private String serve(TestPki.Identity identity) {
    return bench.https(identity).route("/fw.bin", Routes.image(image)).url("/fw.bin");
  }

  /** A server the device must not believe, and a word its failure names. */
  static Stream<Arguments> untrustedServer() {
    Instant now = Instant.now();
    return Stream.of(
        Arguments.of("unknown certificate authority", PKI.unrelatedLocalhost(), "Unrelated Test Root"),
        Arguments.of("same-name CA with another key", PKI.mitmLocalhost(), "intercepting"),
        Arguments.of("certificate for another host", PKI.otherHost(), "localhost"),
        Arguments.of("expired server certificate", PKI.intermediate().serve(now.minus(Duration.ofDays(30)),
            now.minus(Duration.ofDays(1)), "localhost"), "expired"),
        Arguments.of("server certificate not yet valid", PKI.intermediate().serve(now.plus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(30)), "localhost"), "not valid before"),
        Arguments.of("self-signed server certificate", PKI.selfSignedLocalhost(), "certificate"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource
  @Case(name = "unknown certificate authority", category = "trust", fault = "server chain under a root the device does not trust", outcome = "TRUST (3)")
  @Case(name = "same-name CA with another key", category = "trust", fault = "root and intermediate with the trusted names but other keys (MITM)", outcome = "TRUST (3)")
  @Case(name = "certificate for another host", category = "trust", fault = "valid chain issued for other.example, not localhost", outcome = "TRUST (3)")
  @Case(name = "expired server certificate", category = "trust", fault = "leaf certificate past its notAfter", outcome = "TRUST (3)")
  @Case(name = "server certificate not yet valid", category = "trust", fault = "leaf certificate before its notBefore", outcome = "TRUST (3)")
  @Case(name = "self-signed server certificate", category = "trust", fault = "a self-signed leaf for localhost", outcome = "TRUST (3)")
  void untrustedServer(String name, TestPki.Identity identity, String word) {
    fails(bench.device(), UpdateRequest.of(serve(identity)), 2, Reason.TRUST, word);
  }

  /** The pin is of the unrelated root: a chain that validates, or a stray certificate beside it, must not satisfy it. */
  private void pinnedToAnotherKey(TestPki.Identity identity) {
    fails(bench.device(), source().pin(SpkiPin.of(PKI.unrelatedRoot().certificate())),
        UpdateRequest.of(serve(identity)), 2, Reason.TRUST, "pin");
  }

  @Test
  @DisplayName("pin matches nothing")
  @Case(category = "trust", fault = "trusted chain, but the SPKI pin is of another key", outcome = "TRUST (3)")
  void pinMismatch() {
    pinnedToAnotherKey(PKI.localhost());
  }

  @Test
  @DisplayName("pin of a stray certificate")
  @Case(category = "trust", fault = "pinned certificate sent by the server but outside the validated chain", outcome = "TRUST (3)")
  void pinOfStrayCertificate() {
    pinnedToAnotherKey(PKI.localhostWithStrayCertificate());
  }

  @Test
  @DisplayName("TLS 1.1 only server")
  @Case(category = "trust", fault = "server offers nothing newer than TLS 1.1 (the JDK server hangs up without an alert)", outcome = "NETWORK (4), naming TLS 1.2")
  void outdatedTls() {
    TestServer server = bench.add(TestServer.https(PKI.localhost(), "TLSv1.1")).route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.NETWORK, "TLS 1.2");
  }

  @Test
  @DisplayName("plain HTTP on the HTTPS port")
  @Case(category = "trust", fault = "server answers the TLS hello in plain HTTP", outcome = "TRUST (3)")
  void plaintextPeer() {
    TestServer server = bench.add(TestServer.plainHttp()).route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin").replace("http:", "https:")), 2, Reason.TRUST, "TLS");
  }

  @Test
  @DisplayName("handshake never answered")
  @Case(category = "trust", fault = "TCP peer accepts and never speaks TLS", outcome = "NETWORK (4) after the handshake timeout")
  void silentPeer() {
    TestServer server = bench.add(TestServer.silent());
    fails(bench.device(), source().handshakeTimeout(Duration.ofMillis(400)),
        UpdateRequest.of(server.url("/fw.bin")), 1, Reason.NETWORK, "handshake");
  }

  @Test
  @DisplayName("peer hangs up mid-handshake")
  @Case(category = "trust", fault = "TCP peer reads the ClientHello and closes", outcome = "NETWORK (4) after the retries")
  void hangUpInHandshake() {
    TestServer server = bench.add(TestServer.hangingUp());
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 1, Reason.NETWORK, "connection");
  }

  @Test
  @DisplayName("C-header anchor on one long line")
  @Case(category = "trust", fault = "the root given as a C header whose PEM is one 3 KB string literal", outcome = "installed: the header is read in one pass, no stack overflow")
  void cHeaderOnOneLine() throws Exception {
    String oneLine = Pems.of(PKI.root().certificate(), PKI.unrelatedRoot().certificate(),
        PKI.expiredRoot().certificate(), PKI.expiringRoot().certificate()).replace("\n", "\\n");
    java.nio.file.Path header = java.nio.file.Files.createTempFile("root_cert", ".h");
    try {
      java.nio.file.Files.writeString(header, "const char* root_cert = \"" + oneLine + "\";\n");
      HttpsFirmwareSource source = Bench.source().trustAnchors(TrustAnchors.fromPemFile(header));
      Bench.succeeds(bench.device(), source, UpdateRequest.of(serve(PKI.localhost())), 0);
    } finally {
      java.nio.file.Files.deleteIfExists(header);
    }
  }

  @Test
  @DisplayName("get-cert with a stray self-signed certificate")
  @Case(category = "trust", fault = "the server sends an unrelated self-signed certificate beside leaf and intermediate", outcome = "the anchor saved is the root its chain leads to; the stray one is named and ignored")
  void getCertStrayRoot() {
    String url = serve(PKI.localhostWithStrayCertificate());
    FetchedCertificate fetched = CertificateFetcher.create().trustStore(TrustAnchors.fromPem(PKI.root().pem()))
        .fetch(url).block(Bench.WAIT);
    assertThat(fetched).isNotNull();
    assertThat(fetched.anchor()).isEqualTo(PKI.root().certificate());
    assertThat(fetched.warnings()).anySatisfy(w -> assertThat(w).contains("Unrelated Test Root"));
  }
}
