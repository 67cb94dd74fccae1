package io.otaflux;

import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import reactor.core.scheduler.Scheduler;

/**
 * Decides when a progress event is due: at most one per interval and, when the size is known,
 * per whole percent; the final one always.
 */
final class ProgressThrottle {

  private final Scheduler clock;
  private final long intervalMillis;
  private long lastMillis;
  private long lastBytes;
  private long lastPercent = -1;
  private long lastEmittedBytes = -1;

  ProgressThrottle(Scheduler clock, long intervalMillis) {
    this.clock = clock;
    this.intervalMillis = intervalMillis;
    this.lastMillis = clock.now(TimeUnit.MILLISECONDS);
  }

  /** Restarts the rate from here (a new attempt). */
  void restartAt(long bytes) {
    lastMillis = clock.now(TimeUnit.MILLISECONDS);
    lastBytes = bytes;
  }

  UpdateEvent.@Nullable Progress onWritten(long bytesDone, long total) {
    long now = clock.now(TimeUnit.MILLISECONDS);
    long elapsed = now - lastMillis;
    if (elapsed < intervalMillis) {
      return null;
    }
    if (total > 0 && percent(bytesDone, total) <= lastPercent) {
      return null;
    }
    return emit(bytesDone, total, now, elapsed);
  }

  /** The last event, at the end of the body, unless it was just sent. */
  UpdateEvent.@Nullable Progress onEnd(long bytesDone, long total) {
    if (bytesDone == lastEmittedBytes) {
      return null;
    }
    long now = clock.now(TimeUnit.MILLISECONDS);
    return emit(bytesDone, total, now, now - lastMillis);
  }

  private UpdateEvent.Progress emit(long bytesDone, long total, long now, long elapsed) {
    double rate = elapsed > 0 ? (bytesDone - lastBytes) * 1000.0 / elapsed : 0.0;
    lastMillis = now;
    lastBytes = bytesDone;
    lastEmittedBytes = bytesDone;
    if (total > 0) {
      lastPercent = percent(bytesDone, total);
    }
    return new UpdateEvent.Progress(bytesDone, total, Math.max(0.0, rate));
  }

  private static long percent(long done, long total) {
    // in long arithmetic without overflow for images up to exabytes
    return (long) (100.0 * done / total);
  }
}
