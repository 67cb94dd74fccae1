package io.otaflux.delta;

import java.io.IOException;
import java.io.InputStream;

/** Cuts a stream into chunks; each {@link #next()} returns the next chunk's length, its bytes in {@link #bytes()}. */
final class ChunkStream {

  private final InputStream in;
  private final Chunking chunking;
  private final byte[] buffer;
  private int start;
  private int end;
  private boolean eof;
  private int chunkStart;

  ChunkStream(InputStream in, Chunking chunking) {
    this.in = in;
    this.chunking = chunking;
    this.buffer = new byte[Math.max(2 * chunking.max(), 1 << 16)];
  }

  /** The length of the next chunk (its bytes at {@link #bytes()}[{@link #offset()}...]), or -1 at the end. */
  int next() throws IOException {
    while (true) {
      int cut = end > start ? chunking.cut(buffer, start, end - start, eof) : (eof ? -1 : -2);
      if (cut == -1 && eof && end == start) {
        return -1;
      }
      if (cut > 0) {
        chunkStart = start;
        start += cut;
        return cut;
      }
      fill();
    }
  }

  byte[] bytes() {
    return buffer;
  }

  int offset() {
    return chunkStart;
  }

  private void fill() throws IOException {
    if (start > 0) {
      System.arraycopy(buffer, start, buffer, 0, end - start);
      end -= start;
      start = 0;
    }
    while (end < buffer.length) {
      int n = in.read(buffer, end, buffer.length - end);
      if (n < 0) {
        eof = true;
        return;
      }
      end += n;
      if (end - start >= chunking.max()) {
        return;
      }
    }
  }
}
