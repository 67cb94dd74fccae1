package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.junit.jupiter.api.Test;

/** The contract's table from failure detail to Update Result; decided from the detail, never the message. */
class FirmwareResultTest {

  private static int code(Detail detail) {
    return FirmwareResult.of(OtaException.of(detail, "any sentence")).code();
  }

  @Test
  void eachDetailMapsToTheContractsCode() {
    assertThat(code(Detail.SLOT_TOO_SMALL)).isEqualTo(2);
    assertThat(code(Detail.CONNECTION_LOST)).isEqualTo(4);
    assertThat(code(Detail.TIMEOUT)).isEqualTo(4);
    assertThat(code(Detail.DIGEST_MISMATCH)).isEqualTo(5);
    assertThat(code(Detail.UNTRUSTED_SIGNER)).isEqualTo(5);
    assertThat(code(Detail.HTTP_STATUS)).isEqualTo(7);
    assertThat(code(Detail.INVALID_REQUEST)).isEqualTo(7);
    assertThat(code(Detail.UNTRUSTED_CHAIN)).isEqualTo(8);
    assertThat(code(Detail.DOWNGRADE)).isEqualTo(8);
    assertThat(code(Detail.IO_ERROR)).isEqualTo(8);
    assertThat(code(Detail.NON_HTTPS_REDIRECT)).isEqualTo(9);
    assertThat(code(Detail.NOT_HTTPS)).isEqualTo(9);
    assertThat(FirmwareResult.of(OtaException.of(Detail.ABORTED, "Aborted."))).isEqualTo(FirmwareResult.INITIAL);
  }

  @Test
  void aManifestWithoutATrustedKeyIsAnIntegrityFailureAsTheContractSays() {
    assertThat(code(Detail.SIGNATURE_CHECK_REQUIRED)).isEqualTo(5);
  }

  @Test
  void everyDetailHasAResult() {
    for (Detail d : Detail.values()) {
      assertThat(FirmwareResult.of(OtaException.of(d, "s"))).isNotNull();
    }
  }
}
