package io.otaflux.transport;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * The server-controlled {@code Retry-After} header (RFC 9110 10.2.3): {@code delay-seconds} or an
 * HTTP-date in any of the three forms a recipient must accept (IMF-fixdate, the obsolete RFC 850
 * and asctime forms). Never throws and never overflows: garbage and negative values are ignored,
 * huge ones are capped at {@link #LONGEST}; the retry policy caps the wait further.
 */
final class RetryAfter {

  /** The longest delay this parser returns (about 68 years): anything longer is this. */
  static final Duration LONGEST = Duration.ofSeconds(Integer.MAX_VALUE);

  private static final DateTimeFormatter IMF_FIXDATE = formatter("EEE, d MMM yyyy HH:mm:ss 'GMT'");
  private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder().parseCaseInsensitive()
      .appendPattern("EEEE, dd-MMM-")
      .appendValueReduced(ChronoField.YEAR, 2, 2, 1950)
      .appendPattern(" HH:mm:ss 'GMT'")
      .toFormatter(Locale.US).withResolverStyle(ResolverStyle.SMART);
  private static final DateTimeFormatter ASCTIME = formatter("EEE MMM ppd HH:mm:ss yyyy");

  private RetryAfter() {
  }

  private static DateTimeFormatter formatter(String pattern) {
    return new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern(pattern).toFormatter(Locale.US)
        .withResolverStyle(ResolverStyle.SMART);
  }

  /**
   * The wait a {@code Retry-After} value asks for.
   *
   * @param value the header's value, or null
   * @param date the answer's {@code Date} header, or null: an HTTP-date is measured from it, so a
   *     device whose clock is off still waits what the server meant
   * @param now the device's time, used when there is no usable {@code Date}
   * @return the wait (zero for a date in the past), or null when there is no usable value
   */
  static @Nullable Duration parse(@Nullable String value, @Nullable String date, Instant now) {
    if (value == null) {
      return null;
    }
    String v = value.strip();
    if (v.isEmpty() || v.length() > 64) {
      return null;
    }
    if (allDigits(v)) {
      return seconds(v);
    }
    Instant at = httpDate(v);
    if (at == null) {
      return null;
    }
    Instant base = date == null ? null : httpDate(date.strip());
    Duration wait = Duration.between(base != null ? base : now, at);
    if (wait.isNegative()) {
      return Duration.ZERO;
    }
    return wait.compareTo(LONGEST) > 0 ? LONGEST : wait;
  }

  private static boolean allDigits(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** {@code 1*DIGIT}, capped without parsing past the cap. */
  private static Duration seconds(String digits) {
    long seconds = 0;
    for (int i = 0; i < digits.length(); i++) {
      seconds = seconds * 10 + (digits.charAt(i) - '0');
      if (seconds > LONGEST.getSeconds()) {
        return LONGEST;
      }
    }
    return Duration.ofSeconds(seconds);
  }

  /** An HTTP-date in any of its three forms, or null. */
  static @Nullable Instant httpDate(String text) {
    // the shortest form has 24 characters and every form a time of day: skip the parsers otherwise
    if (text.length() < 20 || text.length() > 64 || text.indexOf(':') < 0) {
      return null;
    }
    for (DateTimeFormatter f : new DateTimeFormatter[] {IMF_FIXDATE, RFC_850, ASCTIME}) {
      try {
        return LocalDateTime.parse(text, f).toInstant(ZoneOffset.UTC);
      } catch (DateTimeException | ArithmeticException e) {
        // not this form
      }
    }
    return null;
  }
}
