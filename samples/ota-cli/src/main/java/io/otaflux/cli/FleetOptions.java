package io.otaflux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.spi.SlotStore;
import io.otaflux.transport.HttpsFirmwareSource;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the long-running fleet clients ({@code ota agent}, {@code ota hawkbit}) share: the slot
 * store, the downloads (trust, pins, client certificate, proxy, retries), the command run after an
 * update, and running until SIGINT or SIGTERM.
 */
final class FleetOptions {

  @Option(names = "--slots", required = true, paramLabel = "DIR",
      description = "The slot store (initialised with 1G slots if DIR has none).")
  Path slots;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "3",
      description = "How many times a broken download is resumed (default: ${DEFAULT-VALUE}).")
  int retries;

  /** Trust, pins, client certificate, timeout. */
  @Mixin
  HttpsOptions https;

  /** {@code --proxy}, else the environment's. */
  @Mixin
  ProxyOption proxy;

  @Option(names = "--on-update", paramLabel = "CMD",
      description = "Command run (sh -c) after a new image was made the trial boot choice (a gateway reboots here);"
          + " for `ota agent` also on the Device's Reboot.")
  @Nullable String onUpdate;

  /** Refuses bad option values before anything is opened. */
  void check() {
    if (retries < 0) {
      throw OtaException.of(Reason.USAGE, "--retries cannot be negative.");
    }
  }

  /** The store in {@code --slots}. */
  SlotStore store() {
    return SlotsOption.openOrInit(slots);
  }

  /** The downloads' source: trust, pins, client certificate, timeout and proxy. */
  HttpsFirmwareSource source() {
    return proxy.apply(https.source());
  }

  /** An updater over {@code source} into {@code store}, resuming {@code --retries} times. */
  OtaUpdater updater(HttpsFirmwareSource source, SlotStore store) {
    check();
    return OtaUpdater.create().source(source).store(store).retry(retries, Duration.ofSeconds(1), Duration.ofSeconds(30));
  }

  /** What runs after an update: {@code --on-update} (its output to {@code err}), or nothing. */
  Runnable rebootHook(PrintStream err) {
    String command = onUpdate;
    return command == null ? () -> { } : () -> runHook(command, err);
  }

  /** Starts the client, prints {@code banner} unless null, and waits for SIGINT or SIGTERM; then stops it. */
  static void runUntilSignal(Runnable start, Runnable stop, @Nullable String banner, PrintStream err) {
    CountDownLatch signal = new CountDownLatch(1);
    Interrupts.onSignal(signal::countDown);
    start.run();
    if (banner != null) {
      err.println(banner);
      err.flush();
    }
    try {
      signal.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stop.run();
  }

  /** Runs the hook; its output goes to stderr so stdout keeps one JSON event per line. */
  private static void runHook(String command, PrintStream err) {
    try {
      Process process = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      try (InputStream in = process.getInputStream()) {
        in.transferTo(err);
      }
      int code = process.waitFor();
      if (code != 0) {
        throw new IllegalStateException("--on-update exited with " + code);
      }
    } catch (IOException e) {
      throw new IllegalStateException("--on-update could not run: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("--on-update was interrupted", e);
    }
  }
}
