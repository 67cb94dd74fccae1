package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Instant;
import java.util.List;

import io.otaflux.testkit.Fuzz;
import io.otaflux.transport.testing.Pems;

import org.junit.jupiter.api.Test;

/**
 * Trust-anchor text (PEM bundles, the original's C header), SPKI pins and the redirect locations a
 * server sends never end in a crash: only a result or an {@link io.otaflux.OtaException} with a
 * reason and a sentence. {@code -Dotaflux.fuzz.seed=N} replays a run.
 */
class TrustInputFuzzTest {

  private static final String PEM = Pems.of(PKI.root().certificate());
  private static final List<String> PEM_TOKENS = List.of("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
      "-----BEGIN ", "-----END ", "-----", "=", "\n", "\\n", "\"", "\\", "\\\"", "//", "/*", "*/", "'", ";",
      "const char* root_cert = ", "MII", "\r\n");

  @Test
  void pemBundlesEndInAnchorsOrASentence() {
    String bundle = "subject=" + PKI.root().certificate().getSubjectX500Principal() + "\n" + PEM
        + Pems.of(PKI.intermediate().certificate());
    Fuzz.Summary summary = Fuzz.check("trust anchor PEM", List.of(PEM, bundle), PEM_TOKENS,
        input -> assertThat(TrustAnchors.fromPem(input).certificates()).isNotEmpty());
    assertThat(summary.accepted()).isPositive();
  }

  @Test
  void cHeadersEndInAnchorsOrASentence() {
    String header = new FetchedCertificate(URI.create("https://localhost/fw.bin"), List.of(PKI.root().certificate()),
        PKI.root().certificate(), FetchedCertificate.AnchorSource.SENT_BY_SERVER, Instant.now(), List.of())
        .render(CertificateFormat.C_HEADER);
    String oneLine = "const char* root_cert = \"" + PEM.replace("\n", "\\n") + "\";\n";
    Fuzz.Summary summary = Fuzz.check("trust anchor C header", List.of(header, oneLine), PEM_TOKENS,
        input -> assertThat(TrustAnchors.fromPem(input).certificates()).isNotEmpty());
    assertThat(summary.accepted()).isPositive();
  }

  @Test
  void spkiPinsEndInAPinOrASentence() {
    Fuzz.Summary summary = Fuzz.check("SPKI pin", List.of(SpkiPin.of(PKI.root().certificate()).toString(),
        "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), List.of("sha256/", "=", "==", "+", "/", "-", "_",
        " "), input -> assertThat(SpkiPin.parse(input).toString()).startsWith("sha256/"));
    assertThat(summary.accepted()).isPositive();
  }

  @Test
  void redirectLocationsEndInATargetOrASentence() {
    URI current = URI.create("https://fw.example.com:8443/gw/fw.bin?x=1");
    Fuzz.Summary summary = Fuzz.check("redirect Location", List.of("https://mirror.example/files/fw.bin",
        "/files/fw.bin", "../b/fw.bin?sig=ab%2Bcd", "//cdn.example/fw.bin", "https://u:p@[::1]:9/fw.bin#f"),
        List.of("://", "@", "%", "%2", "[", "]", ":", "?", "#", "//", "https", "http", "..", "%00", "[::1.", "\u00e9"),
        input -> assertThat(new Redirects(current, 10).next(current, input).getScheme()).isEqualToIgnoringCase(
            "https"));
    assertThat(summary.accepted()).isPositive();
  }
}
