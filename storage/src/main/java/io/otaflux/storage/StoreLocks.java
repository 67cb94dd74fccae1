package io.otaflux.storage;

import java.io.IOException;
import java.nio.file.NoSuchFileException;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

/**
 * The store's two locks, each a file lock plus an in-process guard (a file lock only excludes other
 * processes). The <b>update lock</b> is held for a whole write session and taken without waiting:
 * a second update, or an activation during one, fails at once as "busy". The <b>state lock</b> is
 * held for one read-modify-write of the boot state and waited for: so a boot, a mark-good or a
 * rollback can run while an update writes the other slot, and no change is lost to a concurrent
 * one. The update lock is always taken first.
 */
final class StoreLocks {

  private StoreLocks() {
  }

  @FunctionalInterface
  interface Work<T> {
    T run() throws IOException;
  }

  static Medium.Lock update(Medium medium, Layout layout) {
    Medium.Lock lock;
    try {
      lock = medium.tryLock(layout.lockFile());
    } catch (NoSuchFileException e) {
      throw noStore(layout, e);
    } catch (IOException e) {
      throw StoreErrors.io("Taking the store's lock", layout.lockFile(), e);
    }
    if (lock == null) {
      throw StoreErrors.busy(layout.lockFile());
    }
    return lock;
  }

  /** Runs {@code work} holding the state lock. */
  static <T> T underStateLock(Medium medium, Layout layout, Work<T> work) {
    Medium.Lock lock;
    try {
      lock = medium.lock(layout.stateLockFile());
    } catch (NoSuchFileException e) {
      throw noStore(layout, e);
    } catch (IOException e) {
      throw StoreErrors.io("Taking the boot state's lock", layout.stateLockFile(), e);
    }
    try {
      return work.run();
    } catch (IOException e) {
      throw StoreErrors.io("Updating the slot store", layout.stateDir(), e);
    } finally {
      lock.release();
    }
  }

  /** Runs {@code work} holding both locks; fails at once when an update runs. */
  static <T> T underBothLocks(Medium medium, Layout layout, Work<T> work) {
    Medium.Lock lock = update(medium, layout);
    try {
      return underStateLock(medium, layout, work);
    } finally {
      lock.release();
    }
  }

  private static OtaException noStore(Layout layout, IOException e) {
    return OtaException.of(Reason.STORAGE, "There is no slot store here: " + layout.stateDir()
        + " does not exist. Create one with `ota init --slots DIR` (or FileSlotStore.init).", e);
  }
}
