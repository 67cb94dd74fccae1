package io.otaflux;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a slot store knows of both slots and the boot choice.
 *
 * @param active the slot running now (the last one booted)
 * @param next the slot the next boot takes
 * @param slots the status of each slot
 */
public record StoreStatus(SlotId active, SlotId next, Map<SlotId, SlotStatus> slots) {

  /**
   * Checks the parts and copies the map.
   *
   * @param active the running slot
   * @param next the next boot choice
   * @param slots both slots' status
   */
  public StoreStatus {
    Objects.requireNonNull(active, "active");
    Objects.requireNonNull(next, "next");
    EnumMap<SlotId, SlotStatus> copy = new EnumMap<>(SlotId.class);
    copy.putAll(slots);
    if (copy.size() != 2) {
      throw new IllegalArgumentException("a store has two slots, got " + copy.keySet());
    }
    slots = Map.copyOf(copy);
  }

  /**
   * One slot's status.
   *
   * @param slot which slot
   * @return its status
   */
  public SlotStatus slot(SlotId slot) {
    return slots.get(slot);
  }

  /**
   * The slot an update writes: the one not running now.
   *
   * @return the inactive slot
   */
  public SlotId inactive() {
    return active.other();
  }
}
