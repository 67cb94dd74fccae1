package io.otaflux.delta;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream that reads in blocks only: the one-byte {@code read()} and the empty read are
 * answered here, so a subclass implements {@link #readSome} for a non-empty block alone.
 */
abstract class ChunkedInput extends InputStream {

  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public final int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    return len == 0 ? 0 : readSome(b, off, len);
  }

  /**
   * Reads at least one byte into {@code b} (blocking until one is there), or returns -1 at the end.
   *
   * @param b the buffer
   * @param off where to start in it
   * @param len how many bytes at most, at least 1
   * @return how many bytes were read, or -1 at the end
   * @throws IOException when the source fails
   */
  abstract int readSome(byte[] b, int off, int len) throws IOException;
}
