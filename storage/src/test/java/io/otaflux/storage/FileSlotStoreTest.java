package io.otaflux.storage;

import java.nio.file.Path;

import io.otaflux.kit.SlotStoreCompatibilityKit;
import io.otaflux.spi.SlotStore;

import org.junit.jupiter.api.io.TempDir;

/** The compatibility kit on a file store in a temporary directory, reopened from disk by {@link #reopen}. */
class FileSlotStoreTest extends SlotStoreCompatibilityKit {

  @TempDir
  Path dir;

  @Override
  protected SlotStore newStore(long capacity) {
    return FileSlotStore.init(dir, capacity);
  }

  @Override
  protected SlotStore reopen(SlotStore store) {
    return FileSlotStore.open(dir);
  }
}
