package io.otaflux.delta;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/** SHA-256 instances and the truncated chunk digests of the index. */
final class Sha256Digests {

  private Sha256Digests() {
  }

  static MessageDigest create() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  static byte[] truncated(byte[] data, int offset, int length) {
    MessageDigest d = create();
    d.update(data, offset, length);
    return Arrays.copyOf(d.digest(), ChunkIndex.DIGEST);
  }

  static byte[] truncated(MessageDigest d, byte[] data, int offset, int length) {
    d.reset();
    d.update(data, offset, length);
    return Arrays.copyOf(d.digest(), ChunkIndex.DIGEST);
  }
}
