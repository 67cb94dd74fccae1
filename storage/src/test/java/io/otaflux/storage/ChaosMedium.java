package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

/**
 * A {@link CrashMedium} (which loses unsynced data when its power is cut) with random I/O faults in
 * front of it, drawn from one seeded {@link Random}: EIO on open-for-writing, write, sync, rename
 * and directory sync; ENOSPC on write; short writes (part of the buffer reaches the cache, then EIO
 * or ENOSPC: what a failing {@code pwrite} after a partial one leaves). Every fault injected is
 * counted by kind, so a campaign can tell that it injected something.
 */
final class ChaosMedium extends ForwardingMedium {

  /** The kinds of fault injected. */
  enum Fault {
    EIO_OPEN, EIO_WRITE, ENOSPC_WRITE, SHORT_WRITE, EIO_FSYNC, EIO_RENAME, EIO_SYNC_DIRECTORY, POWER_CUT
  }

  private final CrashMedium medium;
  private final Random random;
  private final double rate;
  private final Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
  private final java.util.Set<Fault> forced = java.util.EnumSet.noneOf(Fault.class);
  private boolean enabled;

  ChaosMedium(CrashMedium medium, Random random, double rate) {
    this.medium = medium;
    this.random = random;
    this.rate = rate;
  }

  CrashMedium crashMedium() {
    return medium;
  }

  @Override
  Medium delegate() {
    return medium;
  }

  /** Faults are injected only while enabled (not while the store is set up). */
  ChaosMedium enabled(boolean on) {
    this.enabled = on;
    return this;
  }

  Map<Fault, Integer> injected() {
    return injected;
  }

  void count(Fault fault) {
    injected.merge(fault, 1, Integer::sum);
  }

  /** The next check for {@code fault} injects it, whatever the rate (for regression tests). */
  ChaosMedium forceNext(Fault fault) {
    forced.add(fault);
    return this;
  }

  private boolean fail(Fault fault) {
    if (forced.remove(fault)) {
      count(fault);
      return true;
    }
    if (!enabled || medium.isCut() || random.nextDouble() >= rate) {
      return false;
    }
    count(fault);
    return true;
  }

  private static IOException eio(Path path) {
    return new java.nio.file.FileSystemException(path.toString(), null, "Input/output error");
  }

  @Override
  public Handle open(Path path, Mode mode) throws IOException {
    if (mode != Mode.READ && fail(Fault.EIO_OPEN)) {
      throw eio(path);
    }
    return new ForwardingHandle(super.open(path, mode)) {
      @Override
      public void write(ByteBuffer src, long position) throws IOException {
        if (fail(Fault.EIO_WRITE)) {
          throw eio(path);
        }
        if (fail(Fault.ENOSPC_WRITE)) {
          throw new MediumFullException(path.toString(), "No space left on device");
        }
        if (src.remaining() > 1 && fail(Fault.SHORT_WRITE)) {
          int part = 1 + random.nextInt(src.remaining() - 1);
          ByteBuffer first = src.duplicate();
          first.limit(first.position() + part);
          super.write(first, position);
          src.position(src.position() + part);
          if (random.nextBoolean()) {
            throw new MediumFullException(path.toString(), "No space left on device");
          }
          throw eio(path);
        }
        super.write(src, position);
      }

      @Override
      public void force() throws IOException {
        if (fail(Fault.EIO_FSYNC)) {
          throw eio(path);
        }
        super.force();
      }
    };
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    if (fail(Fault.EIO_RENAME)) {
      throw eio(source);
    }
    super.rename(source, target);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    if (fail(Fault.EIO_SYNC_DIRECTORY)) {
      throw eio(dir);
    }
    super.syncDirectory(dir);
  }
}
