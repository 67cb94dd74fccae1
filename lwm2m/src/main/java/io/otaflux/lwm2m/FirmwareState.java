package io.otaflux.lwm2m;

/** The State resource ({@code /5/0/3}) of the LwM2M Firmware Update object. */
public enum FirmwareState {
  /** 0: nothing downloaded, or the last download or update ended. */
  IDLE(0),
  /** 1: the image is being downloaded into the inactive slot. */
  DOWNLOADING(1),
  /** 2: the image is in the inactive slot, verified, not activated: Update may be executed. */
  DOWNLOADED(2),
  /** 3: Update was executed: the slot is being made the trial boot choice. */
  UPDATING(3);

  private final int code;

  FirmwareState(int code) {
    this.code = code;
  }

  /**
   * The value the server reads.
   *
   * @return 0 to 3
   */
  public int code() {
    return code;
  }
}
