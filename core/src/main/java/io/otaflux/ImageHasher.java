package io.otaflux;

import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * The running SHA-256 of the bytes written, with a checkpoint at the last durable offset so an
 * attempt that resumes there continues the same digest.
 */
final class ImageHasher {

  private MessageDigest current = Sha256.newDigest();
  private MessageDigest checkpoint = clone(current);
  private long checkpointOffset;

  /** Hashes the chunk's remaining bytes without moving its position. */
  void update(ByteBuffer chunk) {
    current.update(chunk.duplicate());
  }

  void checkpoint(long offset) {
    checkpoint = clone(current);
    checkpointOffset = offset;
  }

  long checkpointOffset() {
    return checkpointOffset;
  }

  /** Back to the last checkpoint. */
  void restore() {
    current = clone(checkpoint);
  }

  /** Back to the empty image. */
  void reset() {
    current = Sha256.newDigest();
    checkpoint(0);
  }

  Sha256 finish() {
    return Sha256.of(clone(current).digest());
  }

  private static MessageDigest clone(MessageDigest digest) {
    try {
      return (MessageDigest) digest.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the platform's SHA-256 cannot be cloned", e);
    }
  }
}
