package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.spi.SlotReader;

import org.jspecify.annotations.Nullable;

/**
 * Reads a slot's committed image from its file or device, never past the committed size: what
 * {@link FileSlotStore#openRunning()} and {@link BootloaderSlotStore#openRunning()} hand a delta
 * update. The slot is opened read-only and no lock is taken (an update never writes the running
 * slot, and the update reading it holds the update lock itself).
 */
final class RunningSlotReader implements SlotReader {

  private final SlotId slot;
  private final long size;
  private final @Nullable Sha256 sha256;
  private final Medium.Handle handle;

  private RunningSlotReader(SlotId slot, long size, @Nullable Sha256 sha256, Medium.Handle handle) {
    this.slot = slot;
    this.size = size;
    this.sha256 = sha256;
    this.handle = handle;
  }

  /**
   * Opens {@code path} read-only as the image of {@code slot}.
   *
   * @param medium the medium
   * @param path the slot's file or device
   * @param slot the slot
   * @param size the committed image's size
   * @param sha256 the committed image's digest, or null when none is known
   * @return the reader
   */
  static SlotReader open(Medium medium, Path path, SlotId slot, long size, @Nullable Sha256 sha256) {
    Medium.Handle handle;
    try {
      handle = medium.open(path, Medium.Mode.READ);
    } catch (IOException e) {
      throw StoreErrors.io("Opening the running slot", path, e);
    }
    return new RunningSlotReader(slot, size, sha256, handle);
  }

  @Override
  public SlotId slot() {
    return slot;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public Optional<Sha256> sha256() {
    return Optional.ofNullable(sha256);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    if (position >= size) {
      return -1;
    }
    if (dst.remaining() > size - position) {
      ByteBuffer part = dst.duplicate();
      part.limit(part.position() + (int) (size - position));
      int n = handle.read(part, position);
      if (n > 0) {
        dst.position(dst.position() + n);
      }
      return n;
    }
    return handle.read(dst, position);
  }

  @Override
  public void close() {
    FileSlotStore.closeQuietly(handle);
  }
}
