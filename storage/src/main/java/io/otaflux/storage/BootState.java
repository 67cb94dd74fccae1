package io.otaflux.storage;

import java.net.URI;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;

import org.jspecify.annotations.Nullable;

/**
 * The boot state as this store persists it: what the {@link BootRules} work on (both slots, the
 * running slot, the next boot choice) plus what only this store keeps per slot (where a sealed
 * image came from, the resume journal of a write). Immutable. The rules are never written here:
 * a change applies a {@link BootRules} transition to {@link #status()} and {@link #follow follows}
 * it, and the store writes the result in one atomic step.
 *
 * @param active the slot running now (the last one booted)
 * @param next the slot the next boot takes
 * @param capacity the capacity of each slot in bytes
 * @param a slot a
 * @param b slot b
 */
record BootState(SlotId active, SlotId next, long capacity, SlotRecord a, SlotRecord b) {

  BootState {
    Objects.requireNonNull(active, "active");
    Objects.requireNonNull(next, "next");
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
  }

  /** Slot a good (the factory image) and running, slot b empty. */
  static BootState initial(long capacity) {
    return new BootState(SlotId.A, SlotId.A, capacity, SlotRecord.FACTORY, SlotRecord.EMPTY).follow(
        BootRules.initial(capacity));
  }

  /**
   * The initial state with {@code running} the good slot (the factory image, running and the
   * next boot) and the other slot empty: what a store whose bootloader already boots one of the
   * slots starts from.
   */
  static BootState initial(long capacity, SlotId running) {
    if (running == SlotId.A) {
      return initial(capacity);
    }
    return new BootState(SlotId.B, SlotId.B, capacity, SlotRecord.EMPTY, SlotRecord.FACTORY);
  }

  SlotRecord slot(SlotId id) {
    return id == SlotId.A ? a : b;
  }

  BootState with(SlotId id, SlotRecord record) {
    return id == SlotId.A ? new BootState(active, next, capacity, record, b)
        : new BootState(active, next, capacity, a, record);
  }

  BootState withNext(SlotId newNext) {
    return new BootState(active, newNext, capacity, a, b);
  }

  BootState withActive(SlotId newActive) {
    return new BootState(newActive, next, capacity, a, b);
  }

  /**
   * The state the rules give, with this store's own records kept where they still belong: a
   * slot keeps its origin while it holds the same sealed image, and its journal while it is
   * still being written without a seal.
   */
  BootState follow(StoreStatus rules) {
    Map<SlotId, SlotRecord> records = new EnumMap<>(SlotId.class);
    for (SlotId id : SlotId.values()) {
      SlotRecord old = slot(id);
      SlotStatus s = rules.slot(id);
      URI origin = s.sha256() != null && s.sha256().equals(old.sha256()) ? old.origin() : null;
      SlotRecord.Journal journal = s.state() == SlotState.WRITING && s.sha256() == null ? old.journal() : null;
      records.put(id, new SlotRecord(s.state(), s.attempts(), s.size(), s.sha256(), s.version(), origin, journal));
    }
    return new BootState(rules.active(), rules.next(), capacity, records.get(SlotId.A), records.get(SlotId.B));
  }

  /** This slot's record with another origin or journal (what only this store keeps). */
  BootState withRecord(SlotId id, @Nullable URI origin, SlotRecord.@Nullable Journal journal) {
    SlotRecord r = slot(id);
    return with(id, new SlotRecord(r.state(), r.attempts(), r.size(), r.sha256(), r.version(), origin, journal));
  }

  StoreStatus status() {
    Map<SlotId, SlotStatus> map = new EnumMap<>(SlotId.class);
    for (SlotId id : SlotId.values()) {
      SlotRecord s = slot(id);
      map.put(id, new SlotStatus(id, s.state(), s.size(), s.sha256(),
          s.state() == SlotState.TRIAL ? s.attempts() : 0, s.version(), capacity));
    }
    return new StoreStatus(active, next, map);
  }
}
