package io.otaflux.testkit;

import io.otaflux.spi.SlotStore;

class InMemorySlotStoreTest extends SlotStoreCompatibilityKit {

  @Override
  protected SlotStore newStore(long capacity) {
    return InMemorySlotStore.create(capacity);
  }
}
