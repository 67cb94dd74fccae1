package io.otaflux.delta;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;

import io.otaflux.Sha256;

import org.jspecify.annotations.Nullable;

/**
 * Cuts an image into chunks as its bytes stream past, in order, and records each chunk's size and
 * digest: the {@link ChunkIndex} of an image written by a full download, kept with its slot. Holds
 * at most two of the largest chunks and the index itself.
 */
final class IndexBuilder {

  private final Chunking chunking;
  private final MessageDigest sha = Sha256Digests.create();
  private final byte[] buffer;
  private int start;
  private int end;
  private int[] sizes = new int[1024];
  private byte[] digests = new byte[1024 * ChunkIndex.DIGEST];
  private int count;
  private long total;

  IndexBuilder(Chunking chunking) {
    this.chunking = chunking;
    this.buffer = new byte[2 * chunking.max()];
  }

  /** Takes the next bytes of the image (the buffer's position is not moved). */
  void accept(ByteBuffer bytes) {
    ByteBuffer b = bytes.duplicate();
    while (b.hasRemaining()) {
      if (end == buffer.length) {
        System.arraycopy(buffer, start, buffer, 0, end - start);
        end -= start;
        start = 0;
      }
      int n = Math.min(b.remaining(), buffer.length - end);
      b.get(buffer, end, n);
      end += n;
      cut(false);
    }
  }

  /**
   * The index of the image, once all its bytes were taken.
   *
   * @param size the image's size, as the update verified it, or -1 when unknown
   * @param sha256 the image's SHA-256, as the update verified it
   * @return the index, or null when the bytes taken are not that many
   */
  @Nullable ChunkIndex finish(long size, Sha256 sha256) {
    cut(true);
    if (size >= 0 && total != size || start != end) {
      return null;
    }
    int[] s = Arrays.copyOf(sizes, count);
    return ChunkIndex.of(chunking, Compression.NONE, size, sha256, s, s.clone(),
        Arrays.copyOf(digests, count * ChunkIndex.DIGEST));
  }

  private void cut(boolean eof) {
    while (end > start) {
      int len = chunking.cut(buffer, start, end - start, eof);
      if (len <= 0) {
        return;
      }
      if (count == sizes.length) {
        sizes = Arrays.copyOf(sizes, count * 2);
        digests = Arrays.copyOf(digests, count * 2 * ChunkIndex.DIGEST);
      }
      sizes[count] = len;
      System.arraycopy(Sha256Digests.truncated(sha, buffer, start, len), 0, digests, count * ChunkIndex.DIGEST,
          ChunkIndex.DIGEST);
      count++;
      total += len;
      start += len;
    }
  }
}
