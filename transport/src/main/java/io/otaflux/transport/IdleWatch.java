package io.otaflux.transport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import reactor.core.Disposable;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;

/**
 * Counts a body's silence only while its subscriber waits for bytes: with no demand outstanding
 * (a slow slot writer holding back reads) the clock stands still. One timer at a time, re-armed
 * for the remaining time rather than per chunk.
 */
final class IdleWatch implements Runnable {

  private final long idleNanos;
  private final Scheduler timer;
  private final Runnable onIdle;

  private long outstanding;
  private long since;
  private boolean armed;
  private boolean done;
  private boolean fired;
  private Disposable task = () -> { };

  IdleWatch(Duration idle, Scheduler timer, Runnable onIdle) {
    this.idleNanos = idle.toNanos();
    this.timer = timer;
    this.onIdle = onIdle;
  }

  synchronized void requested(long n) {
    if (done) {
      return;
    }
    if (outstanding == 0) {
      since = now();
    }
    outstanding = Operators.addCap(outstanding, n);
    if (!armed) {
      arm(idleNanos);
    }
  }

  synchronized void received() {
    if (outstanding != Long.MAX_VALUE && outstanding > 0) {
      outstanding--;
    }
    since = now();
  }

  @Override
  public void run() {
    synchronized (this) {
      armed = false;
      if (done || outstanding == 0) {
        return;
      }
      long quiet = now() - since;
      if (quiet < idleNanos) {
        arm(idleNanos - quiet);
        return;
      }
      fired = true;
      done = true;
    }
    onIdle.run();
  }

  synchronized void stop() {
    done = true;
    task.dispose();
  }

  synchronized boolean fired() {
    return fired;
  }

  private void arm(long nanos) {
    armed = true;
    task = timer.schedule(this, nanos, TimeUnit.NANOSECONDS);
  }

  private long now() {
    return timer.now(TimeUnit.NANOSECONDS);
  }
}
