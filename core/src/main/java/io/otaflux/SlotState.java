package io.otaflux;

import java.util.Locale;

/**
 * The state of one slot. Only {@link #GOOD} and {@link #TRIAL} slots ever boot.
 */
public enum SlotState {
  /** Never written. */
  EMPTY,
  /** Being written, or written but not activated: never boots. */
  WRITING,
  /** Failed, aborted or rolled back: never boots. */
  INVALID,
  /** Verified and activated, booting a bounded number of times until confirmed. */
  TRIAL,
  /** Confirmed. */
  GOOD;

  /**
   * The state's name as the {@code ota} command prints it.
   *
   * @return the lowercase name
   */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Whether a slot in this state may boot.
   *
   * @return true for {@code good} and {@code trial}
   */
  public boolean isBootable() {
    return this == GOOD || this == TRIAL;
  }
}
