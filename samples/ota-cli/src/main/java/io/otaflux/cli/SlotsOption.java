package io.otaflux.cli;

import java.nio.file.Path;

import io.otaflux.spi.SlotStore;
import io.otaflux.storage.BootloaderSlotStore;
import io.otaflux.storage.FileSlotStore;

import picocli.CommandLine.Option;

/** {@code --slots DIR}: the slot store a command works on (a file store, or a bootloader store made by init). */
final class SlotsOption {

  @Option(names = "--slots", required = true, paramLabel = "DIR",
      description = "The slot store: DIR/slot-a.img, DIR/slot-b.img and the boot state; or the data directory of"
          + " a store made by `ota init --bootloader`.")
  Path dir;

  SlotStore open() {
    return open(dir);
  }

  /** The store in {@code dir}: a bootloader store when {@code ota init --bootloader} made one there, else a file store. */
  static SlotStore open(Path dir) {
    return BootloaderSlotStore.isIn(dir) ? BootloaderSlotStore.open(dir) : FileSlotStore.open(dir);
  }

  /** As {@link #open(Path)}; a DIR without any store becomes a file store with 1G slots. */
  static SlotStore openOrInit(Path dir) {
    return BootloaderSlotStore.isIn(dir) ? BootloaderSlotStore.open(dir) : FileSlotStore.openOrInit(dir);
  }
}
