package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * Real files (or another medium) with faults injected at the file layer: a disk that fills up after a number of bytes
 * (ENOSPC, as the kernel reports it), files that cannot be opened for writing, syncs that fail (EIO),
 * files that cannot be truncated (as a block device).
 */
final class FaultyMedium implements Medium {

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
    Handle handle = real.open(path, mode);
    return new Handle() {
      @Override
      public void write(ByteBuffer src, long position) throws IOException {
        long n = src.remaining();
        if (spaceLeft.addAndGet(-n) < 0) {
          spaceLeft.addAndGet(n);
          throw new MediumFullException(path.toString(), "No space left on device");
        }
        handle.write(src, position);
      }

      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        return handle.read(dst, position);
      }

      @Override
      public void force() throws IOException {
        if (failingSync.contains(path)) {
          throw new IOException("Input/output error");
        }
        handle.force();
      }

      @Override
      public boolean truncate(long size) throws IOException {
        return !devices.contains(path) && handle.truncate(size);
      }

      @Override
      public long size() throws IOException {
        return handle.size();
      }

      @Override
      public void close() throws IOException {
        handle.close();
      }
    };
  }

  @Override
  public boolean exists(Path path) {
    return real.exists(path);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    real.createDirectories(dir);
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    real.rename(source, target);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    real.syncDirectory(dir);
  }

  @Override
  public @Nullable Lock tryLock(Path lockFile) throws IOException {
    return real.tryLock(lockFile);
  }

  @Override
  public Lock lock(Path lockFile) throws IOException {
    return real.lock(lockFile);
  }
}
