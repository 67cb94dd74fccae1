package io.otaflux.lwm2m;

import io.otaflux.OtaException;

/**
 * The Update Result resource ({@code /5/0/5}) of the LwM2M Firmware Update object, and how an
 * {@link OtaException} maps onto it (the table of CONTRACT.md's {@code ota agent}).
 */
public enum FirmwareResult {
  /** 0: initial value; also after a download starts or is cancelled. */
  INITIAL(0),
  /** 1: the new firmware was confirmed (marked good). */
  SUCCESS(1),
  /** 2: the image is larger than the slot. */
  NOT_ENOUGH_FLASH(2),
  /** 3: out of memory while downloading (not produced by this agent). */
  OUT_OF_RAM(3),
  /** 4: the connection was lost, after the retries. */
  CONNECTION_LOST(4),
  /** 5: size, SHA-256 or signature mismatch, or a manifest signed by no trusted key. */
  INTEGRITY_CHECK_FAILURE(5),
  /** 6: unsupported package type (not produced by this agent). */
  UNSUPPORTED_PACKAGE_TYPE(6),
  /** 7: the Package URI is invalid, or the server answered with a status that is not a success. */
  INVALID_URI(7),
  /**
   * 8: trust failure, downgrade refused, a download refused by the boot rules (a trial running or
   * a reboot pending), trial rolled back, or another error.
   */
  UPDATE_FAILED(8),
  /** 9: a scheme other than {@code https:}, including a redirect to one. */
  UNSUPPORTED_PROTOCOL(9);

  private final int code;

  FirmwareResult(int code) {
    this.code = code;
  }

  /**
   * The value the server reads.
   *
   * @return 0 to 9
   */
  public int code() {
    return code;
  }

  /**
   * The result for a failed download or update.
   *
   * @param failure why it failed
   * @return the result code; {@link #INITIAL} for an abort
   */
  static FirmwareResult of(OtaException failure) {
    switch (failure.detail()) {
      case ABORTED:
        return INITIAL;
      case SLOT_TOO_SMALL:
        return NOT_ENOUGH_FLASH;
      case NOT_HTTPS:
      case NON_HTTPS_REDIRECT:
        return UNSUPPORTED_PROTOCOL;
      case SIGNATURE_CHECK_REQUIRED:
      case UNTRUSTED_SIGNER:
        // CONTRACT: "5 integrity (size, SHA-256, signature, untrusted manifest key)": a manifest no
        // trusted key can vouch for, because none is configured, is the same failure for the server
        return INTEGRITY_CHECK_FAILURE;
      case TRIAL_RUNNING:
      case REBOOT_PENDING:
        // the boot rules refused a new download: a refusal like a downgrade's
      case DOWNGRADE:
        return UPDATE_FAILED;
      default:
        break;
    }
    switch (failure.reason()) {
      case NETWORK:
        return CONNECTION_LOST;
      case INTEGRITY:
        return INTEGRITY_CHECK_FAILURE;
      case SERVER:
      case USAGE:
        return INVALID_URI;
      case TRUST:
      case STORAGE:
      case POLICY:
      default:
        return UPDATE_FAILED;
    }
  }


}
