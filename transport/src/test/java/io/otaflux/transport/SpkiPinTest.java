package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otaflux.OtaException;

import org.junit.jupiter.api.Test;

class SpkiPinTest {

  /** The DigiCert intermediate the original guide's {@code raw_githubusercontent_com.h} holds; pin from openssl. */
  private static final String DIGICERT_PIN = "sha256/k2v657xBsOVe1PQRwOsHsw3bsGT2VzIqz5K+59sNQws=";

  @Test
  void computesThePinOpensslComputesForAKnownCertificate() throws Exception {
    TrustAnchors seed = TrustAnchors.fromPem(new String(
        SpkiPinTest.class.getResourceAsStream("raw_githubusercontent_com.h").readAllBytes(),
        java.nio.charset.StandardCharsets.US_ASCII));
    assertThat(SpkiPin.of(seed.certificates().get(0))).hasToString(DIGICERT_PIN);
    assertThat(SpkiPin.parse(DIGICERT_PIN).matches(seed.certificates().get(0))).isTrue();
  }

  @Test
  void parsesWhatItPrints() {
    SpkiPin pin = SpkiPin.of(PKI.root().certificate());
    assertThat(SpkiPin.parse(" " + pin + "\n")).isEqualTo(pin).hasSameHashCodeAs(pin);
    assertThat(pin.toString()).startsWith("sha256/").hasSize(7 + 44);
  }

  @Test
  void aPinNamesAKeyNotACertificate() {
    assertThat(SpkiPin.of(PKI.root().certificate())).isEqualTo(SpkiPin.of(PKI.root().keys().getPublic()))
        .isNotEqualTo(SpkiPin.of(PKI.mitmRoot().certificate()));
  }

  @Test
  void refusesTextThatIsNotASha256Pin() {
    assertThatThrownBy(() -> SpkiPin.parse("sha1/AAAA")).isInstanceOf(OtaException.class)
        .satisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.USAGE));
    assertThatThrownBy(() -> SpkiPin.parse("sha256/not*base64")).isInstanceOf(OtaException.class);
    assertThatThrownBy(() -> SpkiPin.parse("sha256/AAAA")).hasMessageContaining("holds 3 bytes");
  }
}
