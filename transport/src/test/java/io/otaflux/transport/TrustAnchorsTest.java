package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.otaflux.OtaException;
import io.otaflux.transport.testing.Pems;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustAnchorsTest {

  @TempDir
  Path dir;

  @Test
  void readsSeveralCertificatesIgnoringTextAroundThem() {
    String bundle = "subject=CN=whatever\n" + Pems.of(PKI.root().certificate()) + "\n# comment\n"
        + Pems.of(PKI.intermediate().certificate()) + "trailing text\n";
    assertThat(TrustAnchors.fromPem(bundle).certificates())
        .containsExactly(PKI.root().certificate(), PKI.intermediate().certificate());
  }

  @Test
  void readsTheOriginalGetCertCHeader() throws Exception {
    Path header = dir.resolve("raw_githubusercontent_com.h");
    Files.write(header, TrustAnchorsTest.class.getResourceAsStream("raw_githubusercontent_com.h").readAllBytes());
    TrustAnchors anchors = TrustAnchors.fromPemFile(header);
    assertThat(anchors.certificates()).singleElement()
        .satisfies(c -> assertThat(c.getSubjectX500Principal().getName()).contains("DigiCert SHA2 High Assurance Server CA"));
  }

  @Test
  void combinesAnchorsForARotation() {
    TrustAnchors both = TrustAnchors.fromPem(PKI.root().pem()).and(TrustAnchors.of(List.of(PKI.unrelatedRoot().certificate())));
    assertThat(both.certificates()).containsExactly(PKI.root().certificate(), PKI.unrelatedRoot().certificate());
    assertThat(both.isJdkDefault()).isFalse();
    assertThat(TrustAnchors.jdkDefault().isJdkDefault()).isTrue();
  }

  @Test
  void refusesTextWithoutACertificateAsUsage() {
    assertThatThrownBy(() -> TrustAnchors.fromPem("hello")).isInstanceOf(OtaException.class)
        .satisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.USAGE));
    assertThatThrownBy(() -> TrustAnchors.fromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
        .isInstanceOf(OtaException.class);
    assertThatThrownBy(() -> TrustAnchors.fromPemFile(dir.resolve("missing.pem"))).isInstanceOf(OtaException.class)
        .hasMessageContaining("missing.pem");
  }

  @Test
  void theJdkDefaultCannotBeCombined() {
    assertThatThrownBy(() -> TrustAnchors.jdkDefault().and(TrustAnchors.fromPem(PKI.root().pem())))
        .isInstanceOf(OtaException.class);
  }
}
