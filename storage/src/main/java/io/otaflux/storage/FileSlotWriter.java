package io.otaflux.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.internal.Redaction;
import io.otaflux.spi.BootRules;
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
  /** How far a device slot may hold bytes of an earlier image (the tail a file slot loses by truncation). */
  private final long stale;
  private long position;
  private long written;
  private long durable;
  private boolean sealed;
  private boolean ended;

  FileSlotWriter(SlotId slot, Path path, long capacity, Medium.Handle file, Medium.Lock lock, Medium medium,
      Layout layout, ResumeFrom resume, long stale) {
    this.slot = slot;
    this.path = path;
    this.capacity = capacity;
    this.file = file;
    this.lock = lock;
    this.medium = medium;
    this.layout = layout;
    this.stateFile = new BootStateFile(medium, layout.stateFile());
    this.resume = resume;
    this.stale = stale;
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
    record("Recording the durable offset of slot " + slot.label(), s -> {
      SlotRecord.Journal j = s.slot(slot).journal();
      if (j == null) {
        throw new IOException("slot " + slot.label() + " has no resume journal");
      }
      return s.follow(BootRules.written(s.status(), slot, offset))
          .withRecord(slot, null, new SlotRecord.Journal(j.image(), validator));
    });
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
    cutTail(image.size());
    URI origin = Redaction.withoutUserInfo(image.effectiveUri());
    record("Recording the verified image of slot " + slot.label(),
        s -> s.follow(BootRules.commit(s.status(), slot, image)).withRecord(slot, origin, null));
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
      record("Marking slot " + slot.label() + " invalid", s -> s.follow(BootRules.abort(s.status(), slot)));
    } catch (RuntimeException e) {
      // the slot is still recorded as writing: it never boots, and a later write starts over or resumes
      log.warn("Marking slot {} invalid after an abort failed: {}", slot.label(), e.toString());
    }
    end();
  }

  /**
   * After the image, a slot holds nothing of an earlier one: a slot file of the store's directory
   * is cut to the image's size; a device (or a file given as one, which is never cut) gets zeros up
   * to where an earlier image may have ended (the previous image's size, or the capacity when
   * that is not known), synced before the image is recorded.
   */
  private void cutTail(long end) {
    try {
      if (layout.ownsSlotFiles() && file.truncate(end)) {
        file.force();
        return;
      }
      long upTo = Math.min(Math.max(stale, written), capacity);
      long size = file.size();
      if (size > 0) {
        upTo = Math.min(upTo, size);
      }
      if (upTo <= end) {
        return;
      }
      ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1 << 20, upTo - end));
      for (long at = end; at < upTo; ) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), upTo - at));
        file.write(zeros, at);
        at += zeros.limit();
      }
      file.force();
      log.info("Slot {} ({}) is a device: zeroed bytes {} to {} after the image, so nothing of an earlier image"
          + " remains", slot.label(), path, end, upTo);
    } catch (IOException e) {
      throw StoreErrors.io("Clearing slot " + slot.label() + " past the image", path, e);
    }
  }

  /**
   * Changes the boot state for this slot, under the state lock: read afresh, so a boot or a
   * mark-good that ran meanwhile (on the other slot) is kept.
   */
  private void record(String doing, Change change) {
    StoreLocks.underStateLock(medium, layout, () -> {
      BootStateFile.Loaded loaded = stateFile.load();
      SlotRecord current = loaded.state().slot(slot);
      if (current.state() != SlotState.WRITING) {
        throw new IOException("slot " + slot.label() + " is " + current.state().label() + ", no longer being written");
      }
      try {
        return stateFile.store(change.apply(loaded.state()), loaded);
      } catch (IOException e) {
        throw StoreErrors.io(doing, stateFile.path(), e);
      }
    });
  }

  /** A change of the boot state. */
  @FunctionalInterface
  private interface Change {
    BootState apply(BootState state) throws IOException;
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
