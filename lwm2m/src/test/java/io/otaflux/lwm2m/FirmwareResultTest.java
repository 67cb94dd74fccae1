package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class FirmwareResultTest {

  @Test
  void aThirdPartyStoresSlotTooSmallIs2WhateverItsWording() {
    OtaException failure = OtaException.of(Detail.SLOT_TOO_SMALL, "Das Abbild passt nicht in den Speicher.");

    assertThat(FirmwareResult.of(failure)).isEqualTo(FirmwareResult.NOT_ENOUGH_FLASH);
  }

  @Test
  void aSentenceThatMentionsTheSlotSizeDoesNotMakeAnIoErrorA2() {
    OtaException failure = OtaException.of(Detail.IO_ERROR, "Writing failed: the image is larger than slot b thinks.");

    assertThat(FirmwareResult.of(failure)).isEqualTo(FirmwareResult.UPDATE_FAILED);
  }

  @Test
  void aDowngradeIs8AndARedirectToPlainHttpIs9WhateverTheWording() {
    assertThat(FirmwareResult.of(OtaException.of(Detail.DOWNGRADE, "no"))).isEqualTo(FirmwareResult.UPDATE_FAILED);
    assertThat(FirmwareResult.of(OtaException.of(Detail.NON_HTTPS_REDIRECT, "downgrade to http")))
        .isEqualTo(FirmwareResult.UNSUPPORTED_PROTOCOL);
    assertThat(FirmwareResult.of(OtaException.of(Detail.NOT_HTTPS, "x"))).isEqualTo(FirmwareResult.UNSUPPORTED_PROTOCOL);
  }

  @ParameterizedTest
  @EnumSource(Detail.class)
  void everyDetailHasAResultOfItsFamily(Detail detail) {
    FirmwareResult result = FirmwareResult.of(OtaException.of(detail, "x"));

    Reason reason = detail.reason();
    if (reason == Reason.ABORTED) {
      assertThat(result).isEqualTo(FirmwareResult.INITIAL);
    } else if (reason == Reason.NETWORK) {
      assertThat(result).isEqualTo(FirmwareResult.CONNECTION_LOST);
    } else if (reason == Reason.INTEGRITY) {
      assertThat(result).isEqualTo(FirmwareResult.INTEGRITY_CHECK_FAILURE);
    } else {
      assertThat(result).isNotIn(FirmwareResult.INITIAL, FirmwareResult.SUCCESS);
    }
  }

  @Test
  void aDownloadRefusedByTheBootRulesIs8DecidedFromTheDetailNotTheSentence() {
    assertThat(FirmwareResult.of(OtaException.of(OtaException.Detail.TRIAL_RUNNING, "any words")).code()).isEqualTo(8);
    assertThat(FirmwareResult.of(OtaException.of(OtaException.Detail.REBOOT_PENDING, "any words")).code())
        .isEqualTo(8);
  }

  private static int code(Detail detail) {
    return FirmwareResult.of(OtaException.of(detail, "any sentence")).code();
  }

  @ParameterizedTest(name = "{0} is Update Result {1}")
  @CsvSource({
      "SLOT_TOO_SMALL, 2", "CONNECTION_LOST, 4", "TIMEOUT, 4", "DIGEST_MISMATCH, 5", "UNTRUSTED_SIGNER, 5",
      "HTTP_STATUS, 7", "INVALID_REQUEST, 7", "UNTRUSTED_CHAIN, 8", "DOWNGRADE, 8", "IO_ERROR, 8",
      "NON_HTTPS_REDIRECT, 9", "NOT_HTTPS, 9", "ABORTED, 0"})
  void eachDetailMapsToTheContractsCode(Detail detail, int code) {
    assertThat(code(detail)).isEqualTo(code);
  }

  @Test
  void aManifestWithoutATrustedKeyIsAnIntegrityFailureAsTheContractSays() {
    assertThat(code(Detail.SIGNATURE_CHECK_REQUIRED)).isEqualTo(5);
  }
}
