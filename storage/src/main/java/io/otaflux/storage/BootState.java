package io.otaflux.storage;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;

/**
 * The boot state: both slots, the running slot and the next boot choice. Immutable; every
 * transition of the boot rules ({@link io.otaflux.spi.SlotStore}) is a pure function returning the
 * next state, which the store then writes in one atomic step.
 *
 * @param active the slot running now (the last one booted)
 * @param next the slot the next boot takes
 * @param capacity the capacity of each slot in bytes
 * @param a slot a
 * @param b slot b
 */
record BootState(SlotId active, SlotId next, long capacity, SlotRecord a, SlotRecord b) {

  static final int MAX_TRIAL_BOOTS = 3;

  BootState {
    Objects.requireNonNull(active, "active");
    Objects.requireNonNull(next, "next");
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
  }

  /** Slot a good (the factory image) and running, slot b empty. */
  static BootState initial(long capacity) {
    return new BootState(SlotId.A, SlotId.A, capacity, SlotRecord.FACTORY, SlotRecord.EMPTY);
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

  /** The inactive slot being written: never bootable, and no longer the boot choice. */
  BootState writing(SlotRecord record) {
    SlotId target = active.other();
    BootState s = with(target, record);
    return next == target ? s.withNext(active) : s;
  }

  /** Activates a sealed image: trial and the next boot choice. */
  BootState activate(SlotId slot, Sha256 sha256) {
    if (slot == active) {
      throw OtaException.of(Reason.USAGE, "Slot " + slot.label() + " is running; only the other slot can be activated.");
    }
    SlotRecord s = slot(slot);
    if (!s.isSealed() || !sha256.equals(s.sha256())) {
      throw OtaException.of(Reason.STORAGE, "Slot " + slot.label() + " does not hold the verified image "
          + sha256.hex() + "; download it again before activating.");
    }
    return with(slot, s.withState(SlotState.TRIAL, 0)).withNext(slot);
  }

  /** What booting now does: the slot chosen, with the attempt recorded. */
  BootState boot() {
    SlotRecord chosen = slot(next);
    SlotRecord other = slot(next.other());
    BootState s = this;
    if (chosen.state() == SlotState.TRIAL && chosen.attempts() >= MAX_TRIAL_BOOTS
        && other.state() == SlotState.GOOD) {
      s = s.with(next, chosen.withState(SlotState.INVALID, 0)).withNext(next.other());
    } else if (!chosen.state().isBootable()) {
      if (!other.state().isBootable()) {
        throw OtaException.of(Reason.STORAGE, "Neither slot holds a bootable image (a is " + a.state().label()
            + ", b is " + b.state().label() + "); reflash the device.");
      }
      s = s.withNext(next.other());
    } else if (chosen.state() == SlotState.TRIAL) {
      s = s.with(next, chosen.withState(SlotState.TRIAL, chosen.attempts() + 1));
    }
    return s.withActive(s.next());
  }

  /** Confirms the running slot; this state when it is good already. */
  BootState markGood() {
    SlotRecord running = slot(active);
    if (running.state() == SlotState.GOOD) {
      return this;
    }
    if (running.state() != SlotState.TRIAL) {
      throw OtaException.of(Reason.USAGE, "The running slot " + active.label() + " is " + running.state().label()
          + "; only a trial slot can be confirmed.");
    }
    return with(active, running.withState(SlotState.GOOD, 0)).withNext(active);
  }

  /** Makes the other good slot the boot choice; an unconfirmed trial becomes invalid. */
  BootState rollback() {
    SlotId target = next.other();
    SlotRecord t = slot(target);
    if (t.state() != SlotState.GOOD) {
      throw OtaException.of(Reason.USAGE, "There is nothing to roll back to: slot " + target.label() + " is "
          + t.state().label() + ", not good.");
    }
    SlotRecord current = slot(next);
    BootState s = this;
    if (current.state() == SlotState.TRIAL) {
      s = s.with(next, current.withState(SlotState.INVALID, 0));
    }
    return s.withNext(target);
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
