package io.otaflux.ui;

import java.time.Duration;
import java.util.Locale;

import io.otaflux.internal.Sizes;

/** Byte counts, rates and durations as a person reads them; the console and the page agree. */
final class HumanUnits {

  private HumanUnits() {
  }

  static String bytes(long bytes) {
    return Sizes.human(bytes);
  }

  static String rate(double bytesPerSecond) {
    return bytes((long) bytesPerSecond) + "/s";
  }

  /** {@code m:ss}, or {@code h:mm:ss} from an hour on. */
  static String duration(Duration d) {
    long s = Math.max(0, d.getSeconds());
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
        : String.format(Locale.ROOT, "%d:%02d", m, sec);
  }
}
