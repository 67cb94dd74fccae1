package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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
}
