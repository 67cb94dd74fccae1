package io.otaflux.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

import io.otaflux.Sha256;
import io.otaflux.SlotId;

/**
 * Reads the image in the running slot, so a delta update can reuse what the device holds already.
 * Opened with {@link SlotStore#openRunning()}; never writes.
 *
 * <p><b>Threading:</b> {@link #read} blocks; call it from a worker, never a network event loop.
 */
public interface SlotReader extends AutoCloseable {

  /**
   * The slot read.
   *
   * @return the running slot
   */
  SlotId slot();

  /**
   * The size of the image the slot holds, as committed.
   *
   * @return bytes (0 for an empty slot)
   */
  long size();

  /**
   * The digest the image was committed with, if known.
   *
   * @return the SHA-256, or empty
   */
  Optional<Sha256> sha256();

  /**
   * Reads bytes of the image.
   *
   * @param dst where to put them
   * @param position the offset in the slot
   * @return bytes read, or -1 at or past {@link #size()}
   * @throws IOException on an I/O failure
   */
  int read(ByteBuffer dst, long position) throws IOException;

  /** Releases the slot. Never throws; idempotent. */
  @Override
  void close();
}
