package io.otaflux.hawkbit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff lowest = new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5), n -> 0);
  private final Backoff highest = new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5), n -> n - 1);

  @Test
  void readsHawkbitsSleepIncludingItsJitterNotation() {
    assertThat(Backoff.parseSleep("00:05:00")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Backoff.parseSleep("01:02:03")).isEqualTo(Duration.ofSeconds(3723));
    assertThat(Backoff.parseSleep("00:00:30~10%")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Backoff.parseSleep("soon")).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void pollsAfterTheServersSleepPlusAtMostTenPercent() {
    assertThat(lowest.afterSuccess(Duration.ofMinutes(5))).isEqualTo(Duration.ofMinutes(5));
    assertThat(highest.afterSuccess(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(330));
  }

  @Test
  void aSleepOfZeroNeverSpins() {
    assertThat(lowest.afterSuccess(Duration.ZERO)).isEqualTo(Backoff.MIN_SLEEP);
  }

  @Test
  void failuresBackOffExponentiallyWithJitterUpToTheMaximum() {
    assertThat(lowest.afterFailure(1, Duration.ZERO)).isEqualTo(Duration.ofSeconds(5));
    assertThat(highest.afterFailure(1, Duration.ZERO)).isEqualTo(Duration.ofSeconds(5));
    assertThat(lowest.afterFailure(3, Duration.ZERO)).isEqualTo(Duration.ofSeconds(10));
    assertThat(highest.afterFailure(3, Duration.ZERO)).isEqualTo(Duration.ofSeconds(20));
    assertThat(highest.afterFailure(40, Duration.ZERO)).isEqualTo(Duration.ofMinutes(5));
    assertThat(lowest.afterFailure(40, Duration.ZERO)).isEqualTo(Duration.ofSeconds(150));
  }

  @Test
  void aRetryAfterIsHonouredEvenBeyondTheMaximum() {
    assertThat(lowest.afterFailure(1, Duration.ofSeconds(90))).isEqualTo(Duration.ofSeconds(90));
    assertThat(lowest.afterFailure(1, Duration.ofMinutes(20))).isEqualTo(Duration.ofMinutes(20));
    assertThat(DdiApi.parseRetryAfter("120")).contains(Duration.ofSeconds(120));
    assertThat(DdiApi.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEmpty();
  }
}
