package io.otaflux.spi;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;

import org.jspecify.annotations.Nullable;

/**
 * The A/B boot rules, once, as pure functions from one {@link StoreStatus} to the next: which
 * slot an update may write, activation, counting boots, the fallback, mark-good and rollback.
 * A {@link SlotStore} implements persistence and I/O only: it reads its state, applies a rule,
 * and writes the result in one atomic step (or fails, leaving the old state). Because a store's
 * {@link SlotStore#status()} is the state these rules work on, the compatibility kit checks every
 * store by driving it and the rules through the same steps and comparing the two.
 *
 * <pre>{@code
 * StoreStatus now = readState();                      // the store's own medium
 * StoreStatus next = BootRules.activate(now, slot, sha256);
 * writeAtomically(next);                              // old or new, never neither
 * }</pre>
 *
 * <p><b>The rules:</b>
 * <ul>
 *   <li>Only {@code good} and {@code trial} slots boot.</li>
 *   <li>An update writes only when the device runs its boot choice and that slot is
 *       {@code good} ({@link #writableSlot}); it writes the other slot. So an update never
 *       writes the slot that boots next or the only good image. While the running slot is an
 *       unconfirmed trial it is refused ({@link Detail#TRIAL_RUNNING}); after a rollback, or an
 *       activation, until the device has rebooted into its choice it is refused
 *       ({@link Detail#REBOOT_PENDING}). Both refusals come before a byte is written.</li>
 *   <li>{@link #activate} makes a committed slot {@code trial} and the next boot choice.</li>
 *   <li>{@link #boot} boots a trial at most {@value #MAX_TRIAL_BOOTS} times unconfirmed; the next
 *       boot returns to the other {@code good} slot and the trial becomes {@code invalid}.</li>
 *   <li>{@link #markGood} confirms the running trial; {@link #rollback} makes the other good slot
 *       the boot choice again and an unconfirmed trial {@code invalid}.</li>
 * </ul>
 *
 * <p><b>Stores whose bootloader counts:</b> on a device where the bootloader holds the boot order
 * and the attempts left (U-Boot's {@code BOOT_ORDER} / {@code BOOT_A_LEFT} / {@code BOOT_B_LEFT}
 * as RAUC uses them, GRUB's {@code ORDER} / {@code A_TRY}), the bootloader itself counts and
 * falls back. Such a store never calls {@link #boot}: it builds the state from what it reads back
 * (the running slot from the kernel command line, the boot choice from the order, a trial's
 * attempts as {@value #MAX_TRIAL_BOOTS} minus the attempts left, {@code trial} or {@code good}
 * from its own metadata), applies the other rules to it exactly as here, and writes the result
 * back as the bootloader's variables. {@link #boot} then tells what the bootloader will do on
 * the next boot, which is what its status shows.
 *
 * <p><b>Errors:</b> every rule either returns the next state or throws an {@link OtaException}
 * with a precise {@link Detail} and a sentence saying what to do; the state given is never
 * changed (the types are immutable).
 */
public final class BootRules {

  /** How many times a trial slot boots unconfirmed before the good slot comes back. */
  public static final int MAX_TRIAL_BOOTS = 3;

  private static final String NOTHING_CHANGED = "Nothing was written; the slots and the boot choice are unchanged.";

  private BootRules() {
  }

  /**
   * A new store: slot {@code a} good (the factory image, size 0, no digest) and running, slot
   * {@code b} empty.
   *
   * @param capacity each slot's capacity in bytes
   * @return the state
   */
  public static StoreStatus initial(long capacity) {
    Map<SlotId, SlotStatus> slots = new EnumMap<>(SlotId.class);
    slots.put(SlotId.A, new SlotStatus(SlotId.A, SlotState.GOOD, 0, null, 0, null, capacity));
    slots.put(SlotId.B, new SlotStatus(SlotId.B, SlotState.EMPTY, 0, null, 0, null, capacity));
    return new StoreStatus(SlotId.A, SlotId.A, slots);
  }

  /**
   * The slot an update may write now: the one not running, when the device runs its boot choice
   * and that slot is good.
   *
   * @param state the store's state
   * @return the slot to write
   * @throws OtaException {@link Detail#TRIAL_RUNNING} while the running slot is an unconfirmed
   *     trial; {@link Detail#REBOOT_PENDING} while the next boot takes another slot than the one
   *     running (after a rollback, a fallback or an activation not yet booted)
   */
  public static SlotId writableSlot(StoreStatus state) {
    SlotId running = state.active();
    SlotId other = running.other();
    SlotStatus r = state.slot(running);
    if (r.state() == SlotState.TRIAL) {
      String good = state.slot(other).state() == SlotState.GOOD
          ? " and slot " + other.label() + ", which an update would write, holds the good image to go back to" : "";
      throw OtaException.of(Detail.TRIAL_RUNNING, "Slot " + running.label() + " runs an unconfirmed trial image"
          + good + ": confirm the running image with `ota mark-good` or go back with `ota rollback` first, then"
          + " update. " + NOTHING_CHANGED);
    }
    SlotId next = state.next();
    if (next != running && state.slot(next).state() == SlotState.TRIAL) {
      throw OtaException.of(Detail.REBOOT_PENDING, "Slot " + next.label() + " was activated and boots next, but"
          + " the device has not booted it yet: reboot into it first (`ota boot` for a file store), or drop the"
          + " activation with `ota rollback`; then update. " + NOTHING_CHANGED);
    }
    if (next != running || r.state() != SlotState.GOOD) {
      throw OtaException.of(Detail.REBOOT_PENDING, "The next boot takes slot " + next.label() + " (after a"
          + " rollback or a fallback) but slot " + running.label() + " is running (" + r.state().label()
          + "): reboot into the boot choice first (`ota boot` for a file store), then update. " + NOTHING_CHANGED);
    }
    return other;
  }

  /**
   * An update starts: the {@link #writableSlot} becomes {@code writing} (it never boots), with
   * {@code durable} bytes already on the medium (0 for a fresh write, more when an interrupted
   * write of the same image resumes). The boot choice does not change.
   *
   * @param state the store's state
   * @param durable the bytes of the image already durable in the slot
   * @return the next state
   * @throws OtaException as {@link #writableSlot}; {@link Detail#INVALID_REQUEST} for a negative
   *     or too large {@code durable}
   */
  public static StoreStatus beginWriting(StoreStatus state, long durable) {
    SlotId target = writableSlot(state);
    SlotStatus s = state.slot(target);
    requireSize(durable, s.capacity());
    return with(state, new SlotStatus(target, SlotState.WRITING, durable, null, 0, null, s.capacity()));
  }

  /**
   * The bytes of a slot being written that are durable now (what its status shows as size).
   *
   * @param state the store's state
   * @param slot the slot being written
   * @param durable the durable bytes
   * @return the next state
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} when the slot is not being written or
   *     holds a committed image
   */
  public static StoreStatus written(StoreStatus state, SlotId slot, long durable) {
    SlotStatus s = writing(state, slot);
    requireSize(durable, s.capacity());
    return with(state, new SlotStatus(slot, SlotState.WRITING, durable, null, 0, null, s.capacity()));
  }

  /**
   * A verified image is sealed in the slot being written: it records the image's size, digest
   * and version. The slot still does not boot until it is {@link #activate activated}.
   *
   * @param state the store's state
   * @param slot the slot being written
   * @param image the image's metadata
   * @return the next state
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} when the slot is not being written or
   *     holds a committed image already
   */
  public static StoreStatus commit(StoreStatus state, SlotId slot, ImageMetadata image) {
    SlotStatus s = writing(state, slot);
    requireSize(image.size(), s.capacity());
    return with(state, new SlotStatus(slot, SlotState.WRITING, image.size(), image.sha256(), 0, image.version(),
        s.capacity()));
  }

  /**
   * A write was aborted: the slot becomes {@code invalid} (it never boots) and holds nothing.
   *
   * @param state the store's state
   * @param slot the slot being written
   * @return the next state
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} when the slot is not being written
   */
  public static StoreStatus abort(StoreStatus state, SlotId slot) {
    SlotStatus s = state.slot(slot);
    if (s.state() != SlotState.WRITING) {
      throw notBeingWritten(s);
    }
    return with(state, new SlotStatus(slot, SlotState.INVALID, 0, null, 0, null, s.capacity()));
  }

  /**
   * Makes a committed slot the trial boot choice.
   *
   * @param state the store's state
   * @param slot the slot, not the running one
   * @param sha256 the digest its committed image must have
   * @return the next state
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} for the running slot;
   *     {@link Detail#NOT_VERIFIED} when the slot does not hold that committed image
   */
  public static StoreStatus activate(StoreStatus state, SlotId slot, Sha256 sha256) {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(sha256, "sha256");
    if (slot == state.active()) {
      throw OtaException.of(Detail.NOT_ALLOWED_NOW, "Slot " + slot.label() + " is running; only the other slot can"
          + " be activated.");
    }
    SlotStatus s = state.slot(slot);
    if (s.state() != SlotState.WRITING || !sha256.equals(s.sha256())) {
      throw OtaException.of(Detail.NOT_VERIFIED, "Slot " + slot.label() + " does not hold the verified image "
          + sha256.hex() + "; download it again before activating.");
    }
    return withNext(with(state, withState(s, SlotState.TRIAL, 0)), slot);
  }

  /**
   * A boot: the slot chosen becomes the running one, and a trial's attempt is counted. A trial
   * that has booted {@value #MAX_TRIAL_BOOTS} times unconfirmed becomes {@code invalid} and the
   * other good slot boots instead; a boot choice that cannot boot yields to the other slot.
   *
   * @param state the store's state
   * @return the next state; its {@link StoreStatus#active()} is the slot to boot
   * @throws OtaException {@link Detail#STORE_DAMAGED} when neither slot can boot
   */
  public static StoreStatus boot(StoreStatus state) {
    SlotId next = state.next();
    SlotStatus chosen = state.slot(next);
    SlotStatus other = state.slot(next.other());
    StoreStatus s = state;
    if (chosen.state() == SlotState.TRIAL && chosen.attempts() >= MAX_TRIAL_BOOTS
        && other.state() == SlotState.GOOD) {
      s = withNext(with(s, withState(chosen, SlotState.INVALID, 0)), next.other());
    } else if (!chosen.state().isBootable()) {
      if (!other.state().isBootable()) {
        throw OtaException.of(Detail.STORE_DAMAGED, "Neither slot holds a bootable image (a is "
            + state.slot(SlotId.A).state().label() + ", b is " + state.slot(SlotId.B).state().label()
            + "); reflash the device.");
      }
      s = withNext(s, next.other());
    } else if (chosen.state() == SlotState.TRIAL) {
      s = with(s, withState(chosen, SlotState.TRIAL, chosen.attempts() + 1));
    }
    return new StoreStatus(s.next(), s.next(), s.slots());
  }

  /**
   * Confirms the running slot: a trial becomes {@code good} and stays the boot choice. The same
   * state when it is good already.
   *
   * @param state the store's state
   * @return the next state
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} when the running slot is neither trial nor good
   */
  public static StoreStatus markGood(StoreStatus state) {
    SlotStatus running = state.slot(state.active());
    if (running.state() == SlotState.GOOD) {
      return state;
    }
    if (running.state() != SlotState.TRIAL) {
      throw OtaException.of(Detail.NOT_ALLOWED_NOW, "The running slot " + state.active().label() + " is "
          + running.state().label() + "; only a trial slot can be confirmed.");
    }
    return withNext(with(state, withState(running, SlotState.GOOD, 0)), state.active());
  }

  /**
   * Makes the other good slot the boot choice again; an unconfirmed trial becomes {@code invalid}.
   *
   * @param state the store's state
   * @return the next state; its {@link StoreStatus#next()} is the slot that boots next
   * @throws OtaException {@link Detail#NOT_ALLOWED_NOW} when the other slot is not good
   */
  public static StoreStatus rollback(StoreStatus state) {
    SlotId target = state.next().other();
    SlotStatus t = state.slot(target);
    if (t.state() != SlotState.GOOD) {
      throw OtaException.of(Detail.NOT_ALLOWED_NOW, "There is nothing to roll back to: slot " + target.label()
          + " is " + t.state().label() + ", not good.");
    }
    SlotStatus current = state.slot(state.next());
    StoreStatus s = current.state() == SlotState.TRIAL ? with(state, withState(current, SlotState.INVALID, 0)) : state;
    return withNext(s, target);
  }

  private static SlotStatus writing(StoreStatus state, SlotId slot) {
    SlotStatus s = state.slot(Objects.requireNonNull(slot, "slot"));
    if (s.state() != SlotState.WRITING || s.sha256() != null) {
      throw notBeingWritten(s);
    }
    return s;
  }

  private static OtaException notBeingWritten(SlotStatus s) {
    return OtaException.of(Detail.NOT_ALLOWED_NOW, "Slot " + s.slot().label() + " is " + s.state().label()
        + (s.sha256() != null && s.state() == SlotState.WRITING ? " with a committed image" : "")
        + ", not being written.");
  }

  private static void requireSize(long size, long capacity) {
    if (size < 0 || size > capacity) {
      throw OtaException.of(Detail.INVALID_REQUEST, "A slot of " + capacity + " bytes cannot hold " + size + " bytes.");
    }
  }

  private static SlotStatus withState(SlotStatus s, SlotState state, int attempts) {
    return new SlotStatus(s.slot(), state, s.size(), s.sha256(), attempts, s.version(), s.capacity());
  }

  private static StoreStatus with(StoreStatus state, SlotStatus slot) {
    Map<SlotId, SlotStatus> slots = new EnumMap<>(state.slots());
    slots.put(slot.slot(), slot);
    return new StoreStatus(state.active(), state.next(), slots);
  }

  private static StoreStatus withNext(StoreStatus state, @Nullable SlotId next) {
    return new StoreStatus(state.active(), Objects.requireNonNull(next, "next"), state.slots());
  }
}
