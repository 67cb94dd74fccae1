package io.otaflux.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import io.otaflux.OtaException;

import org.junit.jupiter.api.Test;

/**
 * The two headers a server controls that the transport parses by hand, Retry-After and
 * Content-Range: known forms, the overflow and garbage of issue 14, and 100 000 generated inputs
 * each (seed printed; rerun one with {@code -Dparsers.seed=N}) that must end in a value or an
 * {@link OtaException} with a reason and a sentence, nothing else.
 */
class HeaderParsersTest {

  private static final int INPUTS = 100_000;
  private static final URI URL = URI.create("https://fw.example/fw.bin");
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

  private static long seed(String parser) {
    long seed = Long.getLong("parsers.seed", System.nanoTime());
    System.out.println(parser + " fuzz seed: " + seed + " (rerun with -Dparsers.seed=" + seed + ")");
    return seed;
  }

  @Test
  void retryAfterInSecondsIsThatDelay() {
    assertThat(RetryAfter.parse("120", null, NOW)).isEqualTo(Duration.ofSeconds(120));
    assertThat(RetryAfter.parse(" 0 ", null, NOW)).isEqualTo(Duration.ZERO);
  }

  @Test
  void retryAfterNeverOverflowsAndIgnoresNegativeOrGarbageValues() {
    assertThat(RetryAfter.parse("9223372036854775807", null, NOW)).isEqualTo(RetryAfter.LONGEST);
    assertThat(RetryAfter.parse("99999999999999999999999999999999", null, NOW)).isEqualTo(RetryAfter.LONGEST);
    assertThat(RetryAfter.parse("-5", null, NOW)).isNull();
    assertThat(RetryAfter.parse("+5", null, NOW)).isNull();
    assertThat(RetryAfter.parse("5s", null, NOW)).isNull();
    assertThat(RetryAfter.parse("", null, NOW)).isNull();
    assertThat(RetryAfter.parse(null, null, NOW)).isNull();
  }

  @Test
  void retryAfterAcceptsTheThreeHttpDateFormsOfRfc9110() {
    Duration hour = Duration.ofHours(1);
    assertThat(RetryAfter.parse("Tue, 01 Dec 2026 11:00:00 GMT", null, NOW)).isEqualTo(hour);
    assertThat(RetryAfter.parse("Tuesday, 01-Dec-26 11:00:00 GMT", null, NOW)).isEqualTo(hour);
    assertThat(RetryAfter.parse("Tue Dec  1 11:00:00 2026", null, NOW)).isEqualTo(hour);
    assertThat(RetryAfter.parse("Tue, 01 Dec 2026 09:00:00 GMT", null, NOW)).as("in the past").isEqualTo(Duration.ZERO);
  }

  @Test
  void retryAfterAsADateIsMeasuredFromTheServersDateNotTheDevicesClock() {
    // a device whose clock is a year behind still waits the ten minutes the server meant
    assertThat(RetryAfter.parse("Tue, 01 Dec 2026 10:10:00 GMT", "Tue, 01 Dec 2026 10:00:00 GMT",
        NOW.minus(Duration.ofDays(365)))).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void contentRangeIsParsedWithAKnownOrUnknownTotal() {
    assertThat(ContentRange.parse("bytes 100-199/1000", URL)).isEqualTo(new ContentRange(100, 199, 1000));
    assertThat(ContentRange.parse("bytes 100-199/*", URL)).isEqualTo(new ContentRange(100, 199, -1));
    assertThat(ContentRange.parse("bytes 5000000000-5000000009/6000000000", URL).length()).isEqualTo(10);
  }

  @Test
  void aMalformedContentRangeIsAMalformedResponseWithASentence() {
    for (String bad : new String[] {"bytes lots", "bytes 10-5/100", "bytes 0-100/100", "items 0-1/2", "bytes -1-5/9",
        "bytes 0-9223372036854775807/9223372036854775808", "bytes 0-1/2 trailing", "bytes 1-2", "bytes */100"}) {
      assertThatThrownBy(() -> ContentRange.parse(bad, URL)).as(bad)
          .isInstanceOfSatisfying(OtaException.class, e -> {
            assertThat(e.detail()).isEqualTo(OtaException.Detail.MALFORMED_RESPONSE);
            assertThat(e.getMessage()).contains("Content-Range").endsWith(".");
          });
    }
    assertThatThrownBy(() -> ContentRange.parse(null, URL)).isInstanceOf(OtaException.class);
  }

  @Test
  void aHundredThousandGeneratedRetryAfterValuesEndInADelayOrNothing() {
    Random random = new Random(seed("Retry-After"));
    for (int i = 0; i < INPUTS; i++) {
      String value = generated(random, "Tue, 01 Dec 2026 11:00:00 GMT", "Tuesday, 01-Dec-26 11:00:00 GMT",
          "Tue Dec  1 11:00:00 2026", "120", "9223372036854775807", "-1");
      String date = random.nextInt(4) == 0 ? generated(random, "Tue, 01 Dec 2026 10:00:00 GMT") : null;
      Duration delay;
      try {
        delay = RetryAfter.parse(value, date, NOW);
      } catch (RuntimeException e) {
        throw new AssertionError("Retry-After \"" + value + "\" (Date \"" + date + "\") threw " + e, e);
      }
      if (delay != null) {
        assertThat(delay).as(value).isBetween(Duration.ZERO, RetryAfter.LONGEST);
        assertThat(delay.toNanos()).as("no overflow downstream").isNotNegative();
      }
    }
  }

  @Test
  void aHundredThousandGeneratedContentRangesEndInAConsistentRangeOrAMalformedResponse() {
    Random random = new Random(seed("Content-Range"));
    int parsed = 0;
    for (int i = 0; i < INPUTS; i++) {
      String value = generated(random, "bytes 100-199/1000", "bytes 0-0/*", "bytes 9437184-10485759/10485760",
          "bytes 0-9223372036854775806/9223372036854775807");
      try {
        ContentRange range = ContentRange.parse(value, URL);
        assertThat(range.first()).as(value).isNotNegative();
        assertThat(range.last()).as(value).isGreaterThanOrEqualTo(range.first());
        assertThat(range.length()).as(value).isPositive();
        if (range.complete() >= 0) {
          assertThat(range.last()).as(value).isLessThan(range.complete());
        } else {
          assertThat(range.complete()).as(value).isEqualTo(-1);
        }
        parsed++;
      } catch (OtaException e) {
        assertThat(e.reason()).as(value).isEqualTo(OtaException.Reason.SERVER);
        assertThat(e.getMessage()).as(value).isNotBlank().endsWith(".").hasSizeLessThan(400);
      } catch (RuntimeException e) {
        throw new AssertionError("Content-Range \"" + value + "\" threw " + e, e);
      }
    }
    assertThat(parsed).as("the generator also produces valid ranges").isPositive();
  }

  /** A mutation of one of the seeds, random printable text, digits, or random bytes. */
  private static String generated(Random random, String... seeds) {
    switch (random.nextInt(5)) {
      case 0: {
        byte[] bytes = new byte[random.nextInt(80)];
        random.nextBytes(bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
      }
      case 1: {
        StringBuilder digits = new StringBuilder(random.nextBoolean() ? "-" : "");
        for (int n = random.nextInt(40) + 1; n > 0; n--) {
          digits.append((char) ('0' + random.nextInt(10)));
        }
        return digits.toString();
      }
      default: {
        StringBuilder text = new StringBuilder(seeds[random.nextInt(seeds.length)]);
        for (int n = random.nextInt(4); n > 0; n--) {
          int at = text.length() == 0 ? 0 : random.nextInt(text.length());
          switch (random.nextInt(4)) {
            case 0:
              if (text.length() > 0) {
                text.deleteCharAt(at);
              }
              break;
            case 1:
              text.insert(at, "0123456789 -/*,:GMTbytes".charAt(random.nextInt(24)));
              break;
            case 2:
              if (text.length() > 0) {
                text.setCharAt(at, (char) random.nextInt(0x100));
              }
              break;
            default:
              text.insert(at, Long.toString(random.nextLong()));
          }
        }
        return text.toString();
      }
    }
  }
}
