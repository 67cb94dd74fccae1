package io.otaflux.storage;

import java.nio.file.Path;
import java.util.Objects;

import io.otaflux.SlotId;

/**
 * Where a store's parts are.
 *
 * @param slotA slot a: a file or a block device
 * @param slotB slot b: a file or a block device
 * @param stateFile the boot state (two copies)
 * @param lockFile the update lock: held by a write session, and by whatever must not run during one
 * @param stateLockFile the state lock: held for each read-modify-write of the boot state
 */
record Layout(Path slotA, Path slotB, Path stateFile, Path lockFile, Path stateLockFile) {

  static final String SLOT_A = "slot-a.img";
  static final String SLOT_B = "slot-b.img";
  static final String STATE = "boot-state";
  static final String LOCK = "store.lock";
  static final String STATE_LOCK = "state.lock";

  Layout {
    Objects.requireNonNull(slotA, "slotA");
    Objects.requireNonNull(slotB, "slotB");
    Objects.requireNonNull(stateFile, "stateFile");
    Objects.requireNonNull(lockFile, "lockFile");
    Objects.requireNonNull(stateLockFile, "stateLockFile");
  }

  static Layout inDirectory(Path dir) {
    return new Layout(dir.resolve(SLOT_A), dir.resolve(SLOT_B), dir.resolve(STATE), dir.resolve(LOCK),
        dir.resolve(STATE_LOCK));
  }

  static Layout onDevices(Path slotA, Path slotB, Path stateDir) {
    return new Layout(slotA, slotB, stateDir.resolve(STATE), stateDir.resolve(LOCK), stateDir.resolve(STATE_LOCK));
  }

  /** Whether the slots are this store's own files in its directory (which it may cut), not devices. */
  boolean ownsSlotFiles() {
    return slotA.equals(stateFile.resolveSibling(SLOT_A)) && slotB.equals(stateFile.resolveSibling(SLOT_B));
  }

  Path slot(SlotId id) {
    return id == SlotId.A ? slotA : slotB;
  }

  Path stateDir() {
    Path parent = stateFile.toAbsolutePath().getParent();
    return parent != null ? parent : stateFile.toAbsolutePath();
  }
}
