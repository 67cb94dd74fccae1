package io.otaflux.cli;

import java.time.Duration;
import java.util.Locale;

import io.otaflux.internal.Sizes;

import picocli.CommandLine;

/** Parses the units people type: durations ({@code 30s}, {@code 500ms}) and sizes ({@code 1G}). */
final class Units {

  private Units() {
  }

  static Duration duration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    int digits = digits(t);
    String unit = t.substring(digits);
    long n = digits == 0 ? -1 : number(t.substring(0, digits));
    if (n < 0 || !(unit.isEmpty() || unit.equals("ms") || unit.equals("s") || unit.equals("m") || unit.equals("h"))) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a duration; write it like 30s, 500ms, 2m or 1h");
    }
    long centurySeconds = 100L * 365 * 24 * 3600; // anything longer is a typing error
    long max = unit.equals("ms") ? centurySeconds * 1000 : unit.equals("m") ? centurySeconds / 60
        : unit.equals("h") ? centurySeconds / 3600 : centurySeconds;
    if (n > max) {
      throw new CommandLine.TypeConversionException("'" + text + "' is longer than a century; write it like 30s, 500ms,"
          + " 2m or 1h");
    }
    switch (unit) {
      case "ms":
        return Duration.ofMillis(n);
      case "m":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      default:
        return Duration.ofSeconds(n);
    }
  }

  static long size(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT);
    int digits = digits(t);
    String unit = t.substring(digits);
    long n = digits == 0 ? -1 : number(t.substring(0, digits));
    if (unit.endsWith("IB") && unit.length() == 3 || unit.endsWith("B") && unit.length() <= 2) {
      unit = unit.substring(0, unit.length() - (unit.endsWith("IB") ? 2 : 1));
    }
    int shift = unit.isEmpty() ? -1 : unit.length() == 1 && "KMGT".indexOf(unit.charAt(0)) >= 0
        ? "KMGT".indexOf(unit.charAt(0)) : -2;
    if (n < 0 || shift < -1) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a size; write it like 1048576, 512K, 64M or 1G");
    }
    if (shift < 0) {
      return n;
    }
    int bits = 10 * (shift + 1);
    if (n > (Long.MAX_VALUE >> bits)) {
      throw new CommandLine.TypeConversionException("'" + text + "' is larger than any device; write it like 1048576,"
          + " 512K, 64M or 1G");
    }
    return n << bits;
  }

  /** How many ASCII digits {@code t} starts with. */
  private static int digits(String t) {
    int i = 0;
    while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
      i++;
    }
    return i;
  }

  /** The number the digits stand for, or -1 when it does not fit in a long. */
  private static long number(String digits) {
    long n = 0;
    for (int i = 0; i < digits.length(); i++) {
      int d = digits.charAt(i) - '0';
      if (n > (Long.MAX_VALUE - d) / 10) {
        return -1;
      }
      n = n * 10 + d;
    }
    return n;
  }

  static String human(long bytes) {
    return Sizes.human(bytes);
  }

  /** picocli converter for {@code --timeout}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return duration(value);
    }
  }

  /** picocli converter for sizes. */
  static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      return size(value);
    }
  }
}
