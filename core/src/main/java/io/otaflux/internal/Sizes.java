package io.otaflux.internal;

import java.util.Locale;

/** Byte counts as a person reads them, the same in every module's messages and screens. */
public final class Sizes {

  private Sizes() {
  }

  /**
   * A byte count in binary units: {@code 512 B}, {@code 1.5 KiB}, {@code 3.0 GiB}.
   *
   * @param bytes the count
   * @return the text
   */
  public static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
