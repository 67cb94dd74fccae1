package io.otaflux.delta;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;

/**
 * The index of an image's chunks, as published next to the transfer file: for each chunk of the
 * image, in order, its size, the size of its compressed form in the transfer file, and its digest.
 * The transfer file is the chunks' compressed forms, concatenated; it is also a valid compressed
 * file of the whole image ({@code zstd -d}, {@code xz -d} and {@code gzip -d} decode it), so the
 * same file serves a full download and Range requests for single chunks.
 *
 * <h2>Format (big-endian)</h2>
 * <pre>
 *  8 bytes  magic "OTAFLXI1"
 *  1 byte   chunking: 0 fixed blocks, 1 content-defined (gear hash, FastCDC cut points; {@link Chunking})
 *  1 byte   compression of each chunk: 0 none, 1 zstd, 2 xz, 3 gzip
 *  1 byte   digest length D: 16 (the first 16 bytes of the chunk's SHA-256)
 *  1 byte   0
 *  4 bytes  min chunk size, 4 bytes average, 4 bytes max
 *  8 bytes  image size
 * 32 bytes  image SHA-256
 *  8 bytes  transfer file size (the sum of the compressed sizes)
 *  4 bytes  chunk count N
 *  N times  4 bytes chunk size, 4 bytes compressed size, D bytes digest
 * </pre>
 * The manifest binds the index by its SHA-256, so the digests need not resist a chosen-collision
 * attack by themselves: they find chunks the device holds and catch damage early, and the whole
 * image's SHA-256 is checked before anything is activated.
 */
public final class ChunkIndex {

  static final byte[] MAGIC = "OTAFLXI1".getBytes(StandardCharsets.US_ASCII);
  static final int DIGEST = 16;
  private static final int HEADER = 8 + 4 + 12 + 8 + 32 + 8 + 4;
  private static final int ENTRY = 8 + DIGEST;
  /** The most chunks an index may list: 16 Mi (a 64 GiB image of 4 KiB chunks). */
  private static final int MAX_CHUNKS = 1 << 24;

  private final Chunking chunking;
  private final Compression compression;
  private final long imageSize;
  private final Sha256 imageSha256;
  private final int[] sizes;
  private final int[] compressedSizes;
  private final long[] offsets;
  private final long[] compressedOffsets;
  private final byte[] digests;

  private ChunkIndex(Chunking chunking, Compression compression, long imageSize, Sha256 imageSha256, int[] sizes,
      int[] compressedSizes, byte[] digests) {
    this.chunking = chunking;
    this.compression = compression;
    this.imageSize = imageSize;
    this.imageSha256 = imageSha256;
    this.sizes = sizes;
    this.compressedSizes = compressedSizes;
    this.digests = digests;
    this.offsets = new long[sizes.length + 1];
    this.compressedOffsets = new long[sizes.length + 1];
    for (int i = 0; i < sizes.length; i++) {
      offsets[i + 1] = offsets[i] + sizes[i];
      compressedOffsets[i + 1] = compressedOffsets[i] + compressedSizes[i];
    }
  }

  static ChunkIndex of(Chunking chunking, Compression compression, long imageSize, Sha256 imageSha256, int[] sizes,
      int[] compressedSizes, byte[] digests) {
    return new ChunkIndex(chunking, compression, imageSize, imageSha256, sizes, compressedSizes, digests);
  }

  /**
   * Parses an index strictly.
   *
   * @param bytes the index file's bytes
   * @return the index
   * @throws OtaException {@code CORRUPT_IMAGE} when it is not a well-formed index
   */
  public static ChunkIndex parse(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    try {
      ByteBuffer in = ByteBuffer.wrap(bytes);
      byte[] magic = new byte[MAGIC.length];
      in.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw malformed("it does not start with OTAFLXI1");
      }
      int kind = in.get();
      int comp = in.get();
      int digestLength = in.get();
      in.get();
      int min = in.getInt();
      int average = in.getInt();
      int max = in.getInt();
      if (kind < 0 || kind > 1 || comp < 0 || comp >= Compression.values().length || digestLength != DIGEST) {
        throw malformed("its chunking, compression or digest length is unknown");
      }
      Chunking chunking;
      try {
        chunking = kind == 0 ? Chunking.fixed(max) : Chunking.contentDefined(min, average, max);
      } catch (OtaException e) {
        throw malformed("its chunk sizes are invalid");
      }
      long imageSize = in.getLong();
      byte[] sha = new byte[32];
      in.get(sha);
      long transferSize = in.getLong();
      int count = in.getInt();
      if (count < 0 || count > MAX_CHUNKS || bytes.length != HEADER + (long) count * ENTRY) {
        throw malformed("its length does not match its chunk count");
      }
      int[] sizes = new int[count];
      int[] compressed = new int[count];
      byte[] digests = new byte[count * DIGEST];
      long total = 0;
      long totalCompressed = 0;
      for (int i = 0; i < count; i++) {
        sizes[i] = in.getInt();
        compressed[i] = in.getInt();
        in.get(digests, i * DIGEST, DIGEST);
        if (sizes[i] <= 0 || sizes[i] > max || compressed[i] <= 0) {
          throw malformed("chunk " + i + " has an invalid size");
        }
        total += sizes[i];
        totalCompressed += compressed[i];
      }
      if (total != imageSize || totalCompressed != transferSize) {
        throw malformed("its chunks do not add up to the image and transfer sizes it states");
      }
      return new ChunkIndex(chunking, Compression.values()[comp], imageSize, Sha256.of(sha), sizes, compressed, digests);
    } catch (BufferUnderflowException e) {
      throw malformed("it is truncated");
    }
  }

  private static OtaException malformed(String why) {
    return OtaException.of(Detail.CORRUPT_IMAGE, "The delta index is not valid: " + why + ". Ask its publisher to"
        + " make it again with `ota manifest create --delta`, or update with --no-delta.");
  }

  /**
   * The index file's bytes.
   *
   * @return a new array
   */
  byte[] bytes() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(HEADER + sizes.length * ENTRY);
    try (DataOutputStream out = new DataOutputStream(buffer)) {
      out.write(MAGIC);
      out.writeByte(chunking.isContentDefined() ? 1 : 0);
      out.writeByte(compression.ordinal());
      out.writeByte(DIGEST);
      out.writeByte(0);
      out.writeInt(chunking.min());
      out.writeInt(chunking.average());
      out.writeInt(chunking.max());
      out.writeLong(imageSize);
      out.write(imageSha256.bytes());
      out.writeLong(compressedOffsets[sizes.length]);
      out.writeInt(sizes.length);
      for (int i = 0; i < sizes.length; i++) {
        out.writeInt(sizes[i]);
        out.writeInt(compressedSizes[i]);
        out.write(digests, i * DIGEST, DIGEST);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.toByteArray();
  }

  /**
   * How the image is cut.
   *
   * @return the chunking
   */
  Chunking chunking() {
    return chunking;
  }

  /**
   * How each chunk is compressed in the transfer file.
   *
   * @return the compression
   */
  Compression compression() {
    return compression;
  }

  /**
   * The image size.
   *
   * @return bytes
   */
  long imageSize() {
    return imageSize;
  }

  /**
   * The image's SHA-256.
   *
   * @return the digest
   */
  Sha256 imageSha256() {
    return imageSha256;
  }

  /**
   * The transfer file's size.
   *
   * @return bytes
   */
  long transferSize() {
    return compressedOffsets[sizes.length];
  }

  /**
   * The number of chunks.
   *
   * @return the count
   */
  int chunks() {
    return sizes.length;
  }

  /**
   * What a device whose running slot holds {@code running} would fetch with this index: the compressed
   * bytes of the chunks it lacks (short held runs between them included, as the device coalesces
   * them), the number of Range requests, and the bytes it would copy. For benchmarks and publishers'
   * estimates; the index file itself is not counted.
   *
   * @param running the image the device runs
   * @return {fetched bytes, requests, reused bytes, compressed bytes of the missing chunks alone}
   * @throws java.io.IOException when the file cannot be read
   */
  public long[] cost(java.nio.file.Path running) throws IOException {
    long size = java.nio.file.Files.size(running);
    try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(running)) {
      long[] where = ImageTransfer.match(this, new io.otaflux.spi.SlotReader() {
        @Override
        public io.otaflux.SlotId slot() {
          return io.otaflux.SlotId.A;
        }

        @Override
        public long size() {
          return size;
        }

        @Override
        public java.util.Optional<Sha256> sha256() {
          return java.util.Optional.empty();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
          return channel.read(dst, position);
        }

        @Override
        public void close() {
        }
      });
      long fetched = 0;
      long requests = 0;
      long reused = 0;
      for (var s : ImageTransfer.segments(this, where, 0)) {
        long bytes = compressedOffset(s.last() + 1) - compressedOffset(s.first());
        if (s.fetch()) {
          fetched += bytes;
          requests++;
        } else {
          reused += offset(s.last() + 1) - offset(s.first());
        }
      }
      long missing = 0;
      for (int j = 0; j < where.length; j++) {
        if (where[j] < 0) {
          missing += compressedSizes[j];
        }
      }
      return new long[] {fetched, requests, reused, missing};
    }
  }

  int size(int chunk) {
    return sizes[chunk];
  }

  int compressedSize(int chunk) {
    return compressedSizes[chunk];
  }

  long offset(int chunk) {
    return offsets[chunk];
  }

  long compressedOffset(int chunk) {
    return compressedOffsets[chunk];
  }

  /** The chunk that holds image byte {@code position}. */
  int chunkAt(long position) {
    int i = Arrays.binarySearch(offsets, position);
    return i >= 0 ? i : -i - 2;
  }

  void copyDigest(int chunk, byte[] dst) {
    System.arraycopy(digests, chunk * DIGEST, dst, 0, DIGEST);
  }

  boolean digestEquals(int chunk, byte[] digest) {
    return Arrays.equals(digests, chunk * DIGEST, chunk * DIGEST + DIGEST, digest, 0, DIGEST);
  }

  /** The first 8 digest bytes as a number, for lookups. */
  long digestKey(int chunk) {
    return ByteBuffer.wrap(digests, chunk * DIGEST, 8).getLong();
  }

  static long key(byte[] digest) {
    return ByteBuffer.wrap(digest, 0, 8).getLong();
  }
}
