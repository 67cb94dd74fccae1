package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;

import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.storage.FileSlotStore;

/**
 * A device's file slot store as the suite starts it: slot {@code b} runs a confirmed image (so a
 * failed update writes slot {@code a}), copied from a template made once per JVM. Remembers the
 * running slot, the boot choice and the running image's digest, to prove they are unchanged.
 */
final class Device {

  static final long SLOT_SIZE = 1024 * 1024;
  static final Duration WAIT = Duration.ofSeconds(10);
  private static Path template;

  final Path dir;
  final FileSlotStore store;
  private final StoreStatus before;
  private final Sha256 runningImage;

  private Device(Path dir) {
    this.dir = dir;
    this.store = FileSlotStore.open(dir);
    this.before = store.status().block(WAIT);
    this.runningImage = Sha256.digest(read(store.slotPath(before.active())));
    assertThat(before.slot(before.active()).state()).isEqualTo(SlotState.GOOD);
  }

  /** A fresh store in {@code dir} (which must not exist yet or be empty). */
  static Device fresh(Path dir) {
    copy(template(), dir);
    return new Device(dir);
  }

  /** The device as it is now (after an install that {@code device} booted and confirmed). */
  static Device reopen(Device device) {
    return new Device(device.dir);
  }

  /** The store's directory with a running, confirmed slot b (the template). */
  static synchronized Path template() {
    if (template == null) {
      try {
        Path t = Files.createTempDirectory("otaflux-device-template");
        t.toFile().deleteOnExit();
        Path dir = t.resolve("slots");
        FileSlotStore store = FileSlotStore.init(dir, SLOT_SIZE);
        byte[] factory = new byte[150_000];
        new Random(1).nextBytes(factory);
        OtaUpdater.create().source(InMemoryFirmwareSource.of(factory))
            .store(store).update(UpdateRequest.of("https://factory.example/1.0.bin")).blockLast(WAIT);
        store.boot().block(WAIT);
        store.markGood().block(WAIT);
        template = dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return template;
  }

  /** Asserts the running slot, the boot choice and the running image are as they were. */
  void assertUnchanged() {
    assertUnchanged(FileSlotStore.open(dir).status().block(WAIT));
  }

  void assertUnchanged(StoreStatus after) {
    assertThat(after.active()).as("running slot").isEqualTo(before.active());
    assertThat(after.next()).as("boot choice").isEqualTo(before.next());
    assertThat(after.slot(before.active())).as("running slot's record").isEqualTo(before.slot(before.active()));
    if (!after.slot(before.inactive()).equals(before.slot(before.inactive()))) {
      assertThat(after.slot(before.inactive()).state()).as("the written slot never boots")
          .isIn(SlotState.EMPTY, SlotState.WRITING, SlotState.INVALID);
    }
    assertThat(Sha256.digest(read(store.slotPath(before.active())))).as("running image").isEqualTo(runningImage);
  }

  StoreStatus before() {
    return before;
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void copy(Path from, Path to) {
    try {
      Files.createDirectories(to);
      try (Stream<Path> files = Files.list(from)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, to.resolve(f.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
