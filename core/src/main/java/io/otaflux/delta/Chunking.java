package io.otaflux.delta;

import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

/**
 * How an image is cut into chunks: fixed blocks, or content-defined chunks (a gear rolling hash
 * with FastCDC's normalised cut points), so an insertion moves only the chunks around it. A value:
 * the same chunking cuts the same bytes the same way on the publisher and on the device.
 *
 * <p>The default, {@link #standard()}, is content-defined with a 4 KiB minimum, 8 KiB average and
 * 64 KiB maximum: measured on ext4 root filesystem pairs (benchmarks/RESULTS.md), it fetched less
 * than 4 KiB fixed blocks once the index is counted.
 */
public final class Chunking {

  /** 256 pseudo-random 64-bit values (SplitMix64 from a fixed seed): part of the format. */
  private static final long[] GEAR = gear();

  private final boolean contentDefined;
  private final int min;
  private final int average;
  private final int max;
  private final long maskSmall;
  private final long maskLarge;

  private Chunking(boolean contentDefined, int min, int average, int max) {
    this.contentDefined = contentDefined;
    this.min = min;
    this.average = average;
    this.max = max;
    int bits = 31 - Integer.numberOfLeadingZeros(average);
    this.maskSmall = -1L << (64 - (bits + 1));
    this.maskLarge = -1L << (64 - Math.max(1, bits - 1));
  }

  /**
   * Content-defined chunks: 4 KiB minimum, 8 KiB average, 64 KiB maximum.
   *
   * @return the default chunking
   */
  public static Chunking standard() {
    return contentDefined(4096, 8192, 65536);
  }

  /**
   * Fixed blocks of {@code size} bytes (the last one may be shorter).
   *
   * @param size the block size, from 512 bytes to 16 MiB
   * @return the chunking
   */
  public static Chunking fixed(int size) {
    check(size, size, size);
    return new Chunking(false, size, size, size);
  }

  /**
   * Content-defined chunks.
   *
   * @param min the smallest chunk (but the last)
   * @param average the average chunk, a power of two
   * @param max the largest chunk, at most 16 MiB
   * @return the chunking
   */
  public static Chunking contentDefined(int min, int average, int max) {
    check(min, average, max);
    if (Integer.bitCount(average) != 1) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The average chunk size must be a power of two, not " + average + ".");
    }
    return new Chunking(true, min, average, max);
  }

  private static void check(int min, int average, int max) {
    if (min < 64 || min > average || average > max || max > 16 << 20) {
      throw OtaException.of(Detail.INVALID_REQUEST, "Chunk sizes must satisfy 64 <= min <= average <= max <= 16 MiB,"
          + " not " + min + ", " + average + ", " + max + ".");
    }
  }

  /**
   * Whether chunks are content-defined.
   *
   * @return false for fixed blocks
   */
  boolean isContentDefined() {
    return contentDefined;
  }

  /**
   * The smallest chunk.
   *
   * @return bytes
   */
  int min() {
    return min;
  }

  /**
   * The average chunk.
   *
   * @return bytes
   */
  int average() {
    return average;
  }

  /**
   * The largest chunk.
   *
   * @return bytes
   */
  int max() {
    return max;
  }

  /**
   * The length of the chunk that starts at {@code data[offset]}.
   *
   * @param data the bytes
   * @param offset where the chunk starts
   * @param length how many bytes are there from {@code offset}
   * @param end whether the image ends after them
   * @return the chunk's length, or -1 when more bytes are needed to decide
   */
  int cut(byte[] data, int offset, int length, boolean end) {
    if (length >= max) {
      length = max;
    } else if (!end) {
      return -1;
    }
    if (!contentDefined || length <= min) {
      return length;
    }
    int normal = Math.min(average, length);
    long h = 0;
    int i = min;
    for (; i < normal; i++) {
      h = (h << 1) + GEAR[data[offset + i] & 0xff];
      if ((h & maskSmall) == 0) {
        return i + 1;
      }
    }
    for (; i < length; i++) {
      h = (h << 1) + GEAR[data[offset + i] & 0xff];
      if ((h & maskLarge) == 0) {
        return i + 1;
      }
    }
    return length;
  }

  private static long[] gear() {
    long[] table = new long[256];
    long x = 0x6f7461666c757821L; // "otaflux!"
    for (int i = 0; i < 256; i++) {
      x += 0x9e3779b97f4a7c15L;
      long z = x;
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      table[i] = z ^ (z >>> 31);
    }
    return table;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Chunking && ((Chunking) o).contentDefined == contentDefined && ((Chunking) o).min == min
        && ((Chunking) o).average == average && ((Chunking) o).max == max;
  }

  @Override
  public int hashCode() {
    return Objects.hash(contentDefined, min, average, max);
  }

  @Override
  public String toString() {
    return contentDefined ? "Chunking[content-defined " + min + "/" + average + "/" + max + "]"
        : "Chunking[fixed " + max + "]";
  }
}
