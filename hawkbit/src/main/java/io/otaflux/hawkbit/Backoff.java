package io.otaflux.hawkbit;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * When to poll next: the server's {@code config.polling.sleep} with up to 10 % jitter after a
 * good answer; after failures, exponential backoff with jitter (never below the first delay), at
 * least as long as a {@code Retry-After}. Pure: the random source is a parameter.
 */
final class Backoff {

  /** No poll comes sooner than this, whatever the server says: a sleep of zero must not spin. */
  static final Duration MIN_SLEEP = Duration.ofSeconds(1);

  private final Duration first;
  private final Duration max;
  private final LongUnaryOperator random;

  /**
   * @param first the delay after the first failure
   * @param max the longest delay
   * @param random {@code n -> a value in [0, n)}
   */
  Backoff(Duration first, Duration max, LongUnaryOperator random) {
    this.first = first;
    this.max = max;
    this.random = random;
  }

  /** After a good answer: the server's sleep plus up to 10 % (so a fleet spreads out), at least {@link #MIN_SLEEP}. */
  Duration afterSuccess(Duration sleep) {
    long ms = Math.max(MIN_SLEEP.toMillis(), sleep.toMillis());
    return Duration.ofMillis(ms + random.applyAsLong(ms / 10 + 1));
  }

  /**
   * After the {@code failures}-th failure in a row: half the exponential delay plus a random half,
   * never less than the first delay nor than {@code retryAfter}, never more than the maximum
   * (unless the server asked for longer).
   */
  Duration afterFailure(int failures, Duration retryAfter) {
    long firstMs = Math.max(1, first.toMillis());
    long exp = firstMs << Math.min(20, Math.max(0, failures - 1));
    long capped = Math.min(max.toMillis(), exp);
    long jittered = Math.max(firstMs, capped / 2 + random.applyAsLong(capped / 2 + 1));
    return Duration.ofMillis(Math.max(jittered, retryAfter.toMillis()));
  }

  /** Reads hawkBit's {@code HH:MM:SS}; five minutes (hawkBit's default) when it is not that. */
  static Duration parseSleep(String value) {
    String plain = value.strip();
    int tilde = plain.indexOf('~'); // "HH:mm:ss~10%": hawkBit's own jitter notation
    String[] parts = (tilde < 0 ? plain : plain.substring(0, tilde)).split(":");
    if (parts.length != 3) {
      return Duration.ofMinutes(5);
    }
    try {
      long h = Long.parseLong(parts[0]);
      long m = Long.parseLong(parts[1]);
      long s = Long.parseLong(parts[2]);
      if (h < 0 || m < 0 || s < 0) {
        return Duration.ofMinutes(5);
      }
      return Duration.ofHours(h).plusMinutes(m).plusSeconds(s);
    } catch (NumberFormatException e) {
      return Duration.ofMinutes(5);
    }
  }
}
