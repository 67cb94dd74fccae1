package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real files (or another medium) with faults injected at the file layer: a disk that fills up after a number of bytes
 * (ENOSPC, as the kernel reports it), files that cannot be opened for writing, syncs that fail (EIO),
 * files that cannot be truncated (as a block device).
 */
final class FaultyMedium extends ForwardingMedium {

  private final Medium real;
  private final AtomicLong spaceLeft = new AtomicLong(Long.MAX_VALUE);
  private final Set<Path> readOnly = ConcurrentHashMap.newKeySet();
  private final Set<Path> failingSync = ConcurrentHashMap.newKeySet();
  private final Set<Path> devices = ConcurrentHashMap.newKeySet();

  /** On real files. */
  FaultyMedium() {
    this(FileMedium.INSTANCE);
  }

  /** On {@code real} (for example a {@link CrashMedium}). */
  FaultyMedium(Medium real) {
    this.real = real;
  }

  @Override
  Medium delegate() {
    return real;
  }

  /** From now on, at most {@code bytes} more bytes can be written (to any file) before ENOSPC. */
  FaultyMedium spaceLeft(long bytes) {
    spaceLeft.set(bytes);
    return this;
  }

  /** Opening {@code path} for writing fails as for a read-only file. */
  FaultyMedium readOnly(Path path) {
    readOnly.add(path);
    return this;
  }

  /** {@code path} behaves as a block device: it cannot be truncated. */
  FaultyMedium device(Path path) {
    devices.add(path);
    return this;
  }

  /** A sync of {@code path} fails with EIO. */
  FaultyMedium failingSync(Path path) {
    failingSync.add(path);
    return this;
  }

  @Override
  public Handle open(Path path, Mode mode) throws IOException {
    if (mode != Mode.READ && readOnly.contains(path)) {
      throw new AccessDeniedException(path.toString());
    }
    return new ForwardingHandle(super.open(path, mode)) {
      @Override
      public void write(ByteBuffer src, long position) throws IOException {
        long n = src.remaining();
        if (spaceLeft.addAndGet(-n) < 0) {
          spaceLeft.addAndGet(n);
          throw new MediumFullException(path.toString(), "No space left on device");
        }
        super.write(src, position);
      }

      @Override
      public void force() throws IOException {
        if (failingSync.contains(path)) {
          throw new IOException("Input/output error");
        }
        super.force();
      }

      @Override
      public boolean truncate(long size) throws IOException {
        return !devices.contains(path) && super.truncate(size);
      }
    };
  }
}
