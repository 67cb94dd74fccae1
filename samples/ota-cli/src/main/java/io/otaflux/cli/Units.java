package io.otaflux.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.internal.Sizes;

import picocli.CommandLine;

/** Parses the units people type: durations ({@code 30s}, {@code 500ms}) and sizes ({@code 1G}). */
final class Units {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
  private static final Pattern SIZE = Pattern.compile("(\\d+)([KMGT])?(i?B)?");

  private Units() {
  }

  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a duration; write it like 30s, 500ms, 2m or 1h");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
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
    Matcher m = SIZE.matcher(text.strip().toUpperCase(Locale.ROOT).replace("IB", "iB"));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
          "'" + text + "' is not a size; write it like 1048576, 512K, 64M or 1G");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2);
    int shift = "KMGT".indexOf(unit.isEmpty() ? 'x' : unit.charAt(0));
    return shift < 0 ? n : Math.multiplyExact(n, 1L << (10 * (shift + 1)));
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
