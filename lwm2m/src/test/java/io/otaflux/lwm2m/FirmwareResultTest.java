package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

import org.junit.jupiter.api.Test;

/** The contract's table from failure reason to Update Result. */
class FirmwareResultTest {

  private static FirmwareResult of(Reason reason, String message) {
    return FirmwareResult.of(OtaException.of(reason, message));
  }

  @Test
  void eachReasonMapsToTheContractsCode() {
    assertThat(of(Reason.STORAGE, "The image (2 MiB) is larger than slot b (1 MiB); nothing was written.").code())
        .isEqualTo(2);
    assertThat(of(Reason.NETWORK, "The connection was lost.").code()).isEqualTo(4);
    assertThat(of(Reason.INTEGRITY, "The image's SHA-256 is x but y was expected.").code()).isEqualTo(5);
    assertThat(of(Reason.SERVER, "The server answered 404.").code()).isEqualTo(7);
    assertThat(of(Reason.USAGE, "The URL is not valid.").code()).isEqualTo(7);
    assertThat(of(Reason.TRUST, "The certificate is not trusted.").code()).isEqualTo(8);
    assertThat(of(Reason.POLICY, "Downgrade refused: 1.0.0 is older than 2.0.0.").code()).isEqualTo(8);
    assertThat(of(Reason.STORAGE, "Syncing slot b failed.").code()).isEqualTo(8);
    assertThat(of(Reason.POLICY, "The server redirected https://a to http://b, which is not https.").code())
        .isEqualTo(9);
    assertThat(of(Reason.ABORTED, "Aborted.")).isEqualTo(FirmwareResult.INITIAL);
  }

  @Test
  void aDownloadRefusedByTheBootRulesIs8DecidedFromTheDetailNotTheSentence() {
    assertThat(FirmwareResult.of(OtaException.of(OtaException.Detail.TRIAL_RUNNING, "any words")).code()).isEqualTo(8);
    assertThat(FirmwareResult.of(OtaException.of(OtaException.Detail.REBOOT_PENDING, "any words")).code())
        .isEqualTo(8);
  }
}
