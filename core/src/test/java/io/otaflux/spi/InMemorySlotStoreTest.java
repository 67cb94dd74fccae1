package io.otaflux.spi;

import io.otaflux.kit.SlotStoreCompatibilityKit;

class InMemorySlotStoreTest extends SlotStoreCompatibilityKit {

  @Override
  protected SlotStore newStore(long capacity) {
    return InMemorySlotStore.create(capacity);
  }
}
