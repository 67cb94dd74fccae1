package io.otaflux;

import java.util.Locale;

/** One of the two slots of an A/B store. */
public enum SlotId {
  /** Slot {@code a}. */
  A,
  /** Slot {@code b}. */
  B;

  /**
   * The other slot.
   *
   * @return {@code B} for {@code A} and {@code A} for {@code B}
   */
  public SlotId other() {
    return this == A ? B : A;
  }

  /**
   * The slot's name as the {@code ota} command prints it.
   *
   * @return {@code "a"} or {@code "b"}
   */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code a} or {@code b} (either case).
   *
   * @param label the name
   * @return the slot
   * @throws OtaException reason {@code USAGE} for anything else
   */
  public static SlotId ofLabel(String label) {
    switch (label.strip().toLowerCase(Locale.ROOT)) {
      case "a":
        return A;
      case "b":
        return B;
      default:
        throw OtaException.of(OtaException.Reason.USAGE, "A slot is \"a\" or \"b\", not \"" + label + "\".");
    }
  }
}
