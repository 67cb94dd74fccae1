package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.List;

import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

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
  void readsACHeaderWhoseRsa4096RootIsOneLongStringLiteral() throws Exception {
    X509Certificate rsa4096 = jdkRootWithRsaKeyOf(4096);
    // the whole PEM in one C string literal, as some hand-made headers have it (~1.9 KB on one line)
    String oneLine = Pems.of(rsa4096).replace("\n", "\\n");
    assertThat(oneLine.length()).isGreaterThan(1800);
    Path header = dir.resolve("one_line.h");
    Files.writeString(header, "// one line\nconst char* root_cert = \"" + oneLine + "\";\n");
    assertThat(TrustAnchors.fromPemFile(header).certificates()).containsExactly(rsa4096);
  }

  @Test
  void aCHeaderWithAnEscapedQuoteOrAnUnclosedLiteralIsReadOrRefusedWithASentence() {
    String pem = Pems.of(PKI.root().certificate()).replace("\n", "\\n");
    assertThat(TrustAnchors.fromPem("/* \\\" */ const char* a = \"x\\\"y\"; const char* root_cert = \"" + pem + "\";")
        .certificates()).containsExactly(PKI.root().certificate());
    assertThatThrownBy(() -> TrustAnchors.fromPem("const char* root_cert = \"-----BEGIN CERTIFICATE-----\\n" + "A".repeat(5000)))
        .isInstanceOf(OtaException.class).hasMessageContaining("certificate");
  }

  static X509Certificate jdkRootWithRsaKeyOf(int bits) throws Exception {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    X509TrustManager tm = (X509TrustManager) factory.getTrustManagers()[0];
    for (X509Certificate c : tm.getAcceptedIssuers()) {
      if (c.getPublicKey() instanceof RSAPublicKey && ((RSAPublicKey) c.getPublicKey()).getModulus().bitLength() == bits) {
        return c;
      }
    }
    throw new IllegalStateException("the JDK trusts no RSA-" + bits + " root");
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
