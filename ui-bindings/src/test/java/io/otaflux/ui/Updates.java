package io.otaflux.ui;

import java.time.Duration;
import java.util.Random;

import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateSession;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.testkit.InMemorySlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/** An update from memory into memory, for the tests: image, store and session together. */
final class Updates {

  static final UpdateRequest REQUEST = UpdateRequest.of("https://fw.example.com/gw-2.0.bin");

  final byte[] image;
  final InMemorySlotStore store = InMemorySlotStore.create(64L * 1024 * 1024);
  final UpdateSession session;
  private @Nullable VirtualTimeScheduler clock;

  private Updates(byte[] image, InMemoryFirmwareSource source) {
    this.image = image;
    this.session = OtaUpdater.create().source(source).store(store).progressEvery(Duration.ofMillis(20))
        .session(REQUEST);
  }

  /** An image of {@code size} bytes in chunks of {@code chunk}, at full speed. */
  static Updates fast(int size, int chunk) {
    byte[] image = image(size);
    return new Updates(image, InMemoryFirmwareSource.of(image).chunkSize(chunk));
  }

  /** An image that arrives one chunk per {@code pause}, in real time. */
  static Updates slow(int size, int chunk, Duration pause) {
    return slow(size, chunk, pause, Schedulers.parallel());
  }

  /** An image that arrives one chunk per {@code pause} of {@code clock}. */
  static Updates slow(int size, int chunk, Duration pause, Scheduler clock) {
    byte[] image = image(size);
    return new Updates(image, InMemoryFirmwareSource.of(image).chunkSize(chunk).pauseBetweenChunks(pause, clock));
  }

  /**
   * An update that stalls before its second chunk until {@link #unstall()}: its source keeps time
   * on a virtual clock that nothing moves.
   */
  static Updates stalled() {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    Updates update = slow(64 * 1024, 4096, Duration.ofSeconds(1), clock);
    update.clock = clock;
    return update;
  }

  /** Lets a stalled update run to its end: moves its clock on until disposed. */
  Disposable unstall() {
    VirtualTimeScheduler c = java.util.Objects.requireNonNull(clock, "not a stalled update");
    return Flux.interval(Duration.ofMillis(2)).subscribe(tick -> c.advanceTimeBy(Duration.ofSeconds(1)));
  }

  /** An update whose source fails when opened. */
  static Updates failing(io.otaflux.OtaException failure) {
    byte[] image = image(1024);
    return new Updates(image, InMemoryFirmwareSource.of(image).failingWith(failure));
  }

  Sha256 digest() {
    return Sha256.digest(image);
  }

  private static byte[] image(int size) {
    byte[] image = new byte[size];
    new Random(size).nextBytes(image);
    return image;
  }
}
