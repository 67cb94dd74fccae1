package io.otaflux;

import java.io.IOException;
import java.nio.ByteBuffer;

import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;

/**
 * Serialises every call to a {@link SlotWriter}: an abort from a cancel or a button waits for the
 * chunk being written, and nothing is written after the session ended.
 */
final class GuardedWriter {

  private final SlotWriter writer;
  private boolean ended;

  GuardedWriter(SlotWriter writer) {
    this.writer = writer;
  }

  SlotId slot() {
    return writer.slot();
  }

  long capacity() {
    return writer.capacity();
  }

  synchronized ResumeFrom resumePoint() {
    return writer.resumePoint();
  }

  synchronized long position() {
    return writer.position();
  }

  synchronized void rewind(long offset) throws IOException {
    checkOpen();
    writer.rewind(offset);
  }

  synchronized void write(ByteBuffer chunk) throws IOException {
    checkOpen();
    writer.write(chunk);
  }

  synchronized void sync(@Nullable String validator) throws IOException {
    checkOpen();
    writer.sync(validator);
  }

  synchronized int read(ByteBuffer dst, long position) throws IOException {
    checkOpen();
    return writer.read(dst, position);
  }

  synchronized void commit(ImageMetadata image) throws IOException {
    checkOpen();
    writer.commit(image);
  }

  synchronized void release() {
    if (!ended) {
      ended = true;
      writer.release();
    }
  }

  synchronized void abort() {
    if (!ended) {
      ended = true;
      writer.abort();
    }
  }

  private void checkOpen() {
    if (ended) {
      throw OtaException.of(OtaException.Reason.ABORTED, "The slot write has ended; nothing more is written.");
    }
  }
}
