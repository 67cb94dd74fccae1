package io.otaflux.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reactor.test.scheduler.VirtualTimeScheduler;

class IdleWatchTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final AtomicInteger fired = new AtomicInteger();
  private final IdleWatch watch = new IdleWatch(Duration.ofSeconds(30), time, fired::incrementAndGet);

  @Test
  void firesAfterTheTimeoutOfSilenceWhileBytesAreWanted() {
    watch.requested(1);
    time.advanceTimeBy(Duration.ofSeconds(29));
    assertThat(fired).hasValue(0);
    time.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(fired).hasValue(1);
    assertThat(watch.fired()).isTrue();
  }

  @Test
  void eachChunkRestartsTheSilence() {
    watch.requested(10);
    for (int i = 0; i < 5; i++) {
      time.advanceTimeBy(Duration.ofSeconds(20));
      watch.received();
    }
    assertThat(fired).hasValue(0);
    time.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(fired).hasValue(1);
  }

  @Test
  void silenceWithoutDemandDoesNotCount() {
    watch.requested(1);
    time.advanceTimeBy(Duration.ofSeconds(10));
    watch.received();
    // a slow writer: nothing wanted for an hour
    time.advanceTimeBy(Duration.ofHours(1));
    assertThat(fired).hasValue(0);
    watch.requested(1);
    time.advanceTimeBy(Duration.ofSeconds(29));
    assertThat(fired).hasValue(0);
    time.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(fired).hasValue(1);
  }

  @Test
  void aStoppedWatchNeverFires() {
    watch.requested(Long.MAX_VALUE);
    watch.stop();
    time.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(fired).hasValue(0);
  }
}
