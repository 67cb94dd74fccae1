package io.otaflux.spi;

import java.io.IOException;
import java.nio.ByteBuffer;

import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * A write session on the inactive slot, holding the store's exclusive lock until it ends with
 * {@link #release()} or {@link #abort()}.
 *
 * <p><b>Threading:</b> methods block and are called from one thread at a time (the updater's
 * write scheduler), never on a network event loop. {@link #abort()} may come from another thread
 * while nothing else runs.
 *
 * <p><b>Durability:</b> bytes written are durable only after {@link #sync}; the resume journal
 * records the synced offset only, so a crash resumes from {@link #resumePoint()} with bytes that
 * are really on the medium.
 *
 * <p><b>Errors:</b> {@link IOException} for I/O failures (the updater reports them as
 * {@code STORAGE}); {@link io.otaflux.OtaException} with reason {@code STORAGE} for a write past
 * the slot's capacity.
 */
public interface SlotWriter {

  /**
   * The slot being written: never the active one.
   *
   * @return the slot
   */
  SlotId slot();

  /**
   * The most bytes the slot holds.
   *
   * @return the capacity in bytes
   */
  long capacity();

  /**
   * Where an earlier, interrupted write of the same image left durable bytes, and the validator
   * of the source they came from; {@link ResumeFrom#start()} for a fresh write.
   *
   * @return the resume point
   */
  ResumeFrom resumePoint();

  /**
   * The offset the next {@link #write} goes to.
   *
   * @return the position in bytes
   */
  long position();

  /**
   * Moves the position back, so writing continues there (for a resumed or restarted attempt).
   *
   * @param offset the new position, at most the last synced offset
   * @throws IOException when the store cannot do it
   */
  void rewind(long offset) throws IOException;

  /**
   * Writes all remaining bytes of a buffer at the position and advances it.
   *
   * <p>The buffer is only valid during the call (it may be a source's receive memory, lent for
   * it): a writer keeps no reference to it once it returns.
   *
   * @param chunk the bytes; consumed entirely
   * @throws IOException on an I/O failure
   */
  void write(ByteBuffer chunk) throws IOException;

  /**
   * Makes every byte up to the position durable, then records the position and the source's
   * validator in the resume journal.
   *
   * @param validator the validator of the source the bytes came from, or null
   * @throws IOException on an I/O failure
   */
  void sync(@Nullable String validator) throws IOException;

  /**
   * Reads back bytes already written (to re-hash a resumed prefix, or verify what was written).
   *
   * @param dst where to put them
   * @param position the slot offset to read from
   * @return bytes read, or -1 past the written end
   * @throws IOException on an I/O failure
   */
  int read(ByteBuffer dst, long position) throws IOException;

  /**
   * Seals a verified image: syncs, records its metadata and forgets the journal. The slot does
   * not boot until the store {@link SlotStore#activate activates} it.
   *
   * @param image the image's size, digest, origin and version
   * @throws IOException on an I/O failure
   */
  void commit(ImageMetadata image) throws IOException;

  /**
   * Ends the session and releases the lock. After {@link #commit} the slot holds the sealed
   * image; without it the slot stays {@code writing} (it never boots) and its journal is kept,
   * so a later write of the same image resumes. Never throws; idempotent.
   */
  void release();

  /**
   * Ends the session, marks the slot so it can never boot, forgets the journal and releases
   * the lock. Never throws; idempotent; a no-op after {@link #release()}.
   */
  void abort();
}
