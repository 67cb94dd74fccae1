package io.otaflux.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGINT and SIGTERM abort the running update cleanly: the abort finishes (writer stopped,
 * store as it was), the command reports it with its {@code error:} line, and only then does the
 * process exit, with the command's exit code (8). {@code ota agent} uses the same path to stop:
 * its signal action deregisters, and the command returns 0, which becomes the exit code.
 */
final class Interrupts {

  private static final Duration GRACE = Duration.ofSeconds(20);
  private static final AtomicBoolean signalled = new AtomicBoolean();
  private static final AtomicInteger exitCode = new AtomicInteger(OtaExit.ABORTED);
  private static final CountDownLatch reported = new CountDownLatch(1);
  private static volatile Runnable onSignal = () -> { };
  private static final AtomicBoolean installed = new AtomicBoolean();

  private Interrupts() {
  }

  /** Makes a signal run {@code abort}, then wait until the command has reported. */
  static void onSignal(Runnable abort) {
    onSignal = abort;
    if (installed.compareAndSet(false, true)) {
      Runtime.getRuntime().addShutdownHook(new Thread(Interrupts::shutdown, "ota-abort-on-signal"));
    }
  }

  private static void shutdown() {
    if (reported.getCount() == 0) {
      return; // an ordinary exit: the command has finished
    }
    signalled.set(true);
    onSignal.run();
    try {
      reported.await(GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Runtime.getRuntime().halt(exitCode.get());
  }

  /** Ends the process with the command's exit code, unless a signal's hook is ending it. */
  static void exit(int code) {
    exitCode.set(code);
    reported.countDown();
    if (signalled.get()) {
      // the shutdown hook halts with this code; System.exit would wait for it forever
      return;
    }
    System.exit(code);
  }

  /** Exit codes the signal path needs. */
  static final class OtaExit {
    static final int ABORTED = 8;

    private OtaExit() {
    }
  }
}
