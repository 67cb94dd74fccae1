package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A write session on one slot file, holding the store's lock. The resume journal lives in the
 * boot state: {@link #sync} forces the slot's bytes first and only then records the new durable
 * offset, so the journal never points past bytes that are really on the medium.
 */
final class FileSlotWriter implements SlotWriter {

  private static final Logger log = LoggerFactory.getLogger(FileSlotWriter.class);

  private final SlotId slot;
  private final Path path;
  private final long capacity;
  private final Medium.Handle file;
  private final Medium.Lock lock;
  private final Medium medium;
  private final Layout layout;
  private final BootStateFile stateFile;
  private final ResumeFrom resume;
  private long position;
  private long written;
  private long durable;
  private boolean sealed;
  private boolean ended;

  FileSlotWriter(SlotId slot, Path path, long capacity, Medium.Handle file, Medium.Lock lock, Medium medium,
      Layout layout, ResumeFrom resume) {
    this.slot = slot;
    this.path = path;
    this.capacity = capacity;
    this.file = file;
    this.lock = lock;
    this.medium = medium;
    this.layout = layout;
    this.stateFile = new BootStateFile(medium, layout.stateFile());
    this.resume = resume;
    this.position = resume.offset();
    this.written = resume.offset();
    this.durable = resume.offset();
  }

  @Override
  public SlotId slot() {
    return slot;
  }

  @Override
  public long capacity() {
    return capacity;
  }

  @Override
  public ResumeFrom resumePoint() {
    return resume;
  }

  @Override
  public synchronized long position() {
    return position;
  }

  @Override
  public synchronized void rewind(long offset) throws IOException {
    open();
    if (offset < 0 || offset > durable) {
      throw new IOException("cannot rewind slot " + slot.label() + " to byte " + offset + ": only " + durable
          + " bytes are durable");
    }
    position = offset;
    written = offset;
  }

  @Override
  public synchronized void write(ByteBuffer chunk) throws IOException {
    open();
    int n = chunk.remaining();
    if (n > capacity - position) {
      throw OtaException.of(OtaException.Detail.SLOT_TOO_SMALL, "The image is larger than slot " + slot.label() + " (" + capacity
          + " bytes); the write stopped at byte " + position + ". Use larger slots or a smaller image. "
          + StoreErrors.UNCHANGED);
    }
    try {
      file.write(chunk, position);
    } catch (IOException e) {
      throw StoreErrors.io("Writing slot " + slot.label() + " at byte " + position, path, e);
    }
    position += n;
    written = position;
  }

  @Override
  public synchronized void sync(@Nullable String validator) throws IOException {
    live();
    force();
    if (sealed) {
      return; // the journal is gone: the image is complete and recorded
    }
    long offset = position;
    record("Recording the durable offset of slot " + slot.label(), r -> r.synced(offset, validator));
    durable = position;
  }

  @Override
  public synchronized int read(ByteBuffer dst, long from) throws IOException {
    if (from < 0 || from >= written) {
      return -1;
    }
    long left = written - from;
    if (dst.remaining() > left) {
      ByteBuffer part = dst.slice();
      part.limit((int) left);
      int n = readFully(part, from);
      dst.position(dst.position() + part.position());
      return n;
    }
    return readFully(dst, from);
  }

  private int readFully(ByteBuffer dst, long from) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = file.read(dst, from + total);
      if (n < 0) {
        // a sparse or shortened file: the bytes were never there
        throw new IOException("slot " + slot.label() + " (" + path + ") ends at byte " + (from + total)
            + " but " + written + " were written");
      }
      total += n;
    }
    return total;
  }

  @Override
  public synchronized void commit(ImageMetadata image) throws IOException {
    open();
    if (image.size() != position) {
      throw new IOException("the image has " + image.size() + " bytes but " + position + " were written to slot "
          + slot.label());
    }
    force();
    record("Recording the verified image of slot " + slot.label(), r -> r.sealed(image));
    durable = position;
    sealed = true;
  }

  @Override
  public synchronized void release() {
    end();
  }

  @Override
  public synchronized void abort() {
    if (ended) {
      return;
    }
    try {
      record("Marking slot " + slot.label() + " invalid", SlotRecord::aborted);
    } catch (RuntimeException e) {
      // the slot is still recorded as writing: it never boots, and a later write starts over or resumes
      log.warn("Marking slot {} invalid after an abort failed: {}", slot.label(), e.toString());
    }
    end();
  }

  /**
   * Changes this slot's record in the boot state, under the state lock: read afresh, so a boot or a
   * mark-good that ran meanwhile (on the other slot) is kept.
   */
  private void record(String doing, UnaryOperator<SlotRecord> change) {
    StoreLocks.underStateLock(medium, layout, () -> {
      BootStateFile.Loaded loaded = stateFile.load();
      SlotRecord current = loaded.state().slot(slot);
      if (current.state() != SlotState.WRITING) {
        throw new IOException("slot " + slot.label() + " is " + current.state().label() + ", no longer being written");
      }
      try {
        return stateFile.store(loaded.state().with(slot, change.apply(current)), loaded);
      } catch (IOException e) {
        throw StoreErrors.io(doing, stateFile.path(), e);
      }
    });
  }

  private void force() {
    try {
      file.force();
    } catch (IOException e) {
      throw StoreErrors.io("Syncing slot " + slot.label(), path, e);
    }
  }

  private void end() {
    if (ended) {
      return;
    }
    ended = true;
    FileSlotStore.closeQuietly(file);
    lock.release();
  }

  /** Live and not sealed: the bytes of a committed image never change. */
  private void open() throws IOException {
    live();
    if (sealed) {
      throw new IOException("slot " + slot.label() + " holds a committed image; it cannot be written again in this"
          + " session");
    }
  }

  private void live() throws IOException {
    if (ended) {
      throw new IOException("this write session on slot " + slot.label() + " has ended");
    }
  }
}
