package io.otaflux.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.spi.SlotStore;
import io.otaflux.testkit.SlotStoreCompatibilityKit;

import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility kit on a bootloader store with its slots in files, one folder per store. A
 * boot is what the device does: its bootloader runs RAUC's script ({@link TestBootloader}), the
 * kernel gets the slot it chose, and a healthy boot of a slot that is good already is confirmed
 * ({@code ota mark-good}, as RAUC's mark-good service does). The environment and the bootloader are
 * the subclass's.
 */
abstract class BootloaderKitTest extends SlotStoreCompatibilityKit {

  @TempDir
  Path dir;

  private int stores;

  /** The device in {@code d} as installed: slot files, the bootloader's environment, slot A running. */
  abstract BootloaderSlotStore.Setup device(Path d) throws IOException;

  /** One boot by the device's bootloader; returns the slot it chose. */
  abstract SlotId bootloaderBoots(BootloaderSlotStore.Setup setup) throws IOException;

  @Override
  protected SlotStore newStore(long capacity) {
    try {
      Path d = Files.createDirectories(dir.resolve("s" + stores++));
      return BootloaderSlotStore.create(FileMedium.INSTANCE, d.resolve("data"), device(d).withCapacity(capacity),
          false, d.resolve("no-mountinfo"), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected SlotStore reopen(SlotStore store) {
    return BootloaderSlotStore.open(FileMedium.INSTANCE, ((BootloaderSlotStore) store).dataDir(),
        Path.of("/nonexistent"), null);
  }

  @Override
  protected SlotId bootOnce(SlotStore store) {
    try {
      SlotId booted = bootloaderBoots(((BootloaderSlotStore) store).setup());
      confirmIfGood(reopen(store));
      return booted;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A healthy boot of a good slot is confirmed, as RAUC's mark-good service does on every boot. */
  private static void confirmIfGood(SlotStore store) {
    StoreStatus status = store.status().block(TIMEOUT);
    if (status.slot(status.active()).state() == SlotState.GOOD) {
      store.markGood().block(TIMEOUT);
    }
  }
}
