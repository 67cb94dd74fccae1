package io.otaflux.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import reactor.netty.http.HttpResources;

/**
 * SIGINT and SIGTERM abort the running update cleanly: the abort finishes (writer stopped,
 * store as it was), the command reports it with its {@code error:} line, and only then does the
 * process exit, with the command's exit code (8). {@code ota agent} uses the same path to stop:
 * its signal action deregisters, and the command returns 0, which becomes the exit code.
 */
final class Interrupts {

  private static final Duration GRACE = Duration.ofSeconds(20);
  private static final Duration STOP_LOOPS = Duration.ofMillis(200);
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
    stopEventLoops();
    reported.countDown();
    if (signalled.get()) {
      // the shutdown hook halts with this code; System.exit would wait for it forever
      return;
    }
    System.exit(code);
  }

  /**
   * Stops Reactor Netty's event loops, at once, before the JVM exits. HotSpot 17's exit waits up to
   * 300 ms for threads in native code (VM_Exit::wait_for_threads_in_native_to_block), and an idle
   * epoll loop sits in native epoll_wait: every run of the command paid those 300 ms, an abort by
   * SIGINT included (benchmarks/RESULTS.md). The command has finished and reported by now.
   */
  private static void stopEventLoops() {
    try {
      HttpResources.disposeLoopsAndConnectionsLater(Duration.ZERO, STOP_LOOPS).block(STOP_LOOPS.multipliedBy(2));
    } catch (RuntimeException e) {
      // exiting anyway: the loops only cost the wait
    }
  }

  /** Exit codes the signal path needs. */
  static final class OtaExit {
    static final int ABORTED = 8;

    private OtaExit() {
    }
  }
}
