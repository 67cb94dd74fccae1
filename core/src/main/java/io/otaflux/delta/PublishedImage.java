package io.otaflux.delta;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.IntStream;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;

import org.jspecify.annotations.Nullable;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * The publisher's side: writes, next to an image, its compressed form (the <i>transfer file</i>)
 * and, for delta updates, the {@link ChunkIndex} of its chunks. The files are static: any HTTPS
 * server (nginx, a CDN) serves them as they are, and no work depends on which version a device
 * runs. {@link io.otaflux.manifest.Manifest.Builder#files} binds them into the signed manifest.
 *
 * <pre>{@code
 * PublishedImage files = PublishedImage.of(Path.of("gw-2.0.img"))
 *     .compression(Compression.ZSTD)
 *     .delta(true)         // gw-2.0.img.zst, gw-2.0.img.chunks.zst, gw-2.0.img.idx
 *     .write();
 * Manifest manifest = Manifest.builder().version("2.0.0").url("gw-2.0.img").files(files).sign(key);
 * }</pre>
 *
 * <p>The transfer file is one compressed stream (the best ratio: a full download). With delta,
 * two more files: the <i>chunks file</i>, the image's chunks compressed one by one and concatenated
 * (a valid {@code .zst}/{@code .xz}/{@code .gz} file of the whole image too), from which a device
 * fetches the chunks it lacks with Range requests; and the index. Compressing chunks apart loses
 * the context between them (measured 25-28 % larger on ext4 images, benchmarks/RESULTS.md), so a
 * device whose delta would download as much as the whole image downloads the transfer file instead.
 */
public final class PublishedImage {

  private static final int BATCH = 256;

  private final long imageSize;
  private final Sha256 imageSha256;
  private final Compression compression;
  private final Path transferFile;
  private final long transferSize;
  private final Sha256 transferSha256;
  private final @Nullable Path indexFile;
  private final @Nullable Path chunksFile;
  private final long indexSize;
  private final @Nullable Sha256 indexSha256;
  private final int chunks;

  private PublishedImage(long imageSize, Sha256 imageSha256, Compression compression, Path transferFile,
      long transferSize, Sha256 transferSha256, @Nullable Path indexFile, long indexSize, @Nullable Sha256 indexSha256,
      int chunks, @Nullable Path chunksFile) {
    this.chunksFile = chunksFile;
    this.imageSize = imageSize;
    this.imageSha256 = imageSha256;
    this.compression = compression;
    this.transferFile = transferFile;
    this.transferSize = transferSize;
    this.transferSha256 = transferSha256;
    this.indexFile = indexFile;
    this.indexSize = indexSize;
    this.indexSha256 = indexSha256;
    this.chunks = chunks;
  }

  /**
   * Starts publishing {@code image}.
   *
   * @param image the image file
   * @return the settings, to {@link Builder#write()}
   */
  public static Builder of(Path image) {
    return new Builder(Objects.requireNonNull(image, "image"), Compression.ZSTD, false, Chunking.standard(), -1);
  }

  /**
   * The image size.
   *
   * @return bytes
   */
  public long imageSize() {
    return imageSize;
  }

  /**
   * The image's SHA-256.
   *
   * @return the digest
   */
  public Sha256 imageSha256() {
    return imageSha256;
  }

  /**
   * How the transfer file is compressed ({@link Compression#NONE} when there is none: the image itself).
   *
   * @return the compression
   */
  public Compression compression() {
    return compression;
  }

  /**
   * The transfer file (the image itself without compression).
   *
   * @return the path
   */
  public Path transferFile() {
    return transferFile;
  }

  /**
   * The transfer file's size.
   *
   * @return bytes
   */
  public long transferSize() {
    return transferSize;
  }

  /**
   * The transfer file's SHA-256.
   *
   * @return the digest
   */
  public Sha256 transferSha256() {
    return transferSha256;
  }

  /**
   * The chunk index, when delta was asked for.
   *
   * @return the path, or empty
   */
  public Optional<Path> indexFile() {
    return Optional.ofNullable(indexFile);
  }

  /**
   * The chunks file (the chunks compressed one by one), when delta was asked for.
   *
   * @return the path, or empty
   */
  public Optional<Path> chunksFile() {
    return Optional.ofNullable(chunksFile);
  }

  /**
   * The index file's size.
   *
   * @return bytes, 0 without an index
   */
  public long indexSize() {
    return indexSize;
  }

  /**
   * The index file's SHA-256.
   *
   * @return the digest
   * @throws IllegalStateException without an index
   */
  public Sha256 indexSha256() {
    if (indexSha256 == null) {
      throw new IllegalStateException("no index was written");
    }
    return indexSha256;
  }

  /**
   * The number of chunks in the index.
   *
   * @return the count, 0 without an index
   */
  public int chunks() {
    return chunks;
  }

  /**
   * The files written, for a publisher to copy next to the image.
   *
   * @return the transfer file and the index, if any
   */
  public List<Path> files() {
    List<Path> files = new ArrayList<>();
    files.add(transferFile);
    if (chunksFile != null) {
      files.add(chunksFile);
    }
    if (indexFile != null) {
      files.add(indexFile);
    }
    return files;
  }

  /** Copy-on-write settings of a publication. */
  public static final class Builder {
    private final Path image;
    private final Compression compression;
    private final boolean delta;
    private final Chunking chunking;
    private final int level;

    private Builder(Path image, Compression compression, boolean delta, Chunking chunking, int level) {
      this.image = image;
      this.compression = compression;
      this.delta = delta;
      this.chunking = chunking;
      this.level = level;
    }

    /**
     * How to compress (default zstd).
     *
     * @param compression the compression; {@link Compression#NONE} only without delta
     * @return new settings
     */
    public Builder compression(Compression compression) {
      return new Builder(image, Objects.requireNonNull(compression, "compression"), delta, chunking, level);
    }

    /**
     * Whether to write a chunk index for delta updates (default false).
     *
     * @param delta true for a delta-capable publication
     * @return new settings
     */
    public Builder delta(boolean delta) {
      return new Builder(image, compression, delta, chunking, level);
    }

    /**
     * How to cut the image for delta updates (default {@link Chunking#standard()}).
     *
     * @param chunking the chunking
     * @return new settings
     */
    public Builder chunking(Chunking chunking) {
      return new Builder(image, compression, delta, Objects.requireNonNull(chunking, "chunking"), level);
    }

    /**
     * The compression level (default: zstd 19, xz 6, gzip 9).
     *
     * @param level the level
     * @return new settings
     */
    public Builder level(int level) {
      return new Builder(image, compression, delta, chunking, level);
    }

    /**
     * Writes the files next to the image ({@code IMAGE.zst} and {@code IMAGE.idx}, say), each
     * through a temporary file renamed into place.
     *
     * @return what was written
     * @throws OtaException {@code INVALID_REQUEST} for a missing image or delta without
     *     compression, {@code IO_ERROR} when a file cannot be read or written
     */
    public PublishedImage write() {
      if (delta && compression == Compression.NONE) {
        throw OtaException.of(Detail.INVALID_REQUEST, "A delta needs a compression (zstd, xz or gzip).");
      }
      if (!Files.isRegularFile(image)) {
        throw OtaException.of(Detail.INVALID_REQUEST, "The image file " + image + " does not exist.");
      }
      int lvl = level >= 0 ? level : ChunkCodec.defaultLevel(compression);
      try {
        PublishedImage whole = writeWhole(lvl);
        if (!delta) {
          return whole;
        }
        PublishedImage chunked = writeDelta(lvl);
        if (!chunked.imageSha256.equals(whole.imageSha256)) {
          throw OtaException.of(Detail.IO_ERROR, "The image " + image + " changed while it was published; publish"
              + " it again.");
        }
        return new PublishedImage(whole.imageSize, whole.imageSha256, compression, whole.transferFile,
            whole.transferSize, whole.transferSha256, chunked.indexFile, chunked.indexSize, chunked.indexSha256,
            chunked.chunks, chunked.transferFile);
      } catch (NoSuchFileException e) {
        throw OtaException.of(Detail.INVALID_REQUEST, "The image file " + image + " does not exist.", e);
      } catch (IOException e) {
        throw OtaException.of(Detail.IO_ERROR, "Publishing " + image + " failed: " + e.getMessage(), e);
      } catch (LinkageError e) {
        throw Decoding.missingDecoder(compression, e);
      }
    }

    private Path sibling(String suffix) {
      return image.resolveSibling(image.getFileName() + suffix);
    }

    private PublishedImage writeWhole(int lvl) throws IOException {
      MessageDigest imageDigest = Sha256Digests.create();
      if (compression == Compression.NONE) {
        long size = 0;
        try (InputStream in = Files.newInputStream(image)) {
          byte[] buffer = new byte[1 << 16];
          for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            imageDigest.update(buffer, 0, n);
            size += n;
          }
        }
        Sha256 digest = Sha256.of(imageDigest.digest());
        return new PublishedImage(size, digest, compression, image, size, digest, null, 0, null, 0, null);
      }
      Path target = sibling(compression.suffix());
      Path temp = target.resolveSibling(target.getFileName() + ".tmp");
      MessageDigest transferDigest = Sha256Digests.create();
      long size = 0;
      try (InputStream in = new BufferedInputStream(Files.newInputStream(image), 1 << 16);
          DigestOutputStream digestOut = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(temp),
              1 << 16), transferDigest);
          OutputStream out = encoder(digestOut, lvl)) {
        byte[] buffer = new byte[1 << 16];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          imageDigest.update(buffer, 0, n);
          out.write(buffer, 0, n);
          size += n;
        }
      }
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new PublishedImage(size, Sha256.of(imageDigest.digest()), compression, target, Files.size(target),
          Sha256.of(transferDigest.digest()), null, 0, null, 0, null);
    }

    private OutputStream encoder(OutputStream out, int lvl) throws IOException {
      switch (compression) {
        case ZSTD:
          return ZstdCodec.encoder(out, lvl);
        case XZ:
          return new XZOutputStream(out, new LZMA2Options(Math.min(6, lvl)));
        case GZIP:
          return new java.util.zip.GZIPOutputStream(out, 1 << 16) {
            {
              def.setLevel(Math.min(9, Math.max(1, lvl)));
            }
          };
        default:
          return out;
      }
    }

    private PublishedImage writeDelta(int lvl) throws IOException {
      Path target = sibling(".chunks" + compression.suffix());
      Path temp = target.resolveSibling(target.getFileName() + ".tmp");
      Path indexTarget = sibling(".idx");
      Path indexTemp = indexTarget.resolveSibling(indexTarget.getFileName() + ".tmp");
      MessageDigest imageDigest = Sha256Digests.create();
      MessageDigest transferDigest = Sha256Digests.create();
      IntList sizes = new IntList();
      IntList compressedSizes = new IntList();
      java.io.ByteArrayOutputStream digests = new java.io.ByteArrayOutputStream();
      long size = 0;
      try (InputStream in = Files.newInputStream(image);
          DigestOutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(temp),
              1 << 16), transferDigest)) {
        ChunkStream chunks = new ChunkStream(in, chunking);
        List<byte[]> batch = new ArrayList<>(BATCH);
        for (int n = chunks.next(); ; n = chunks.next()) {
          if (n > 0) {
            byte[] chunk = Arrays.copyOfRange(chunks.bytes(), chunks.offset(), chunks.offset() + n);
            imageDigest.update(chunk);
            size += n;
            batch.add(chunk);
          }
          if (batch.size() == BATCH || (n < 0 && !batch.isEmpty())) {
            byte[][] compressed = new byte[batch.size()][];
            List<byte[]> current = batch;
            IntStream.range(0, current.size()).parallel().forEach(i -> compressed[i] = ChunkCodec.compress(compression,
                current.get(i), 0, current.get(i).length, lvl));
            for (int i = 0; i < current.size(); i++) {
              out.write(compressed[i]);
              sizes.add(current.get(i).length);
              compressedSizes.add(compressed[i].length);
              digests.write(Sha256Digests.truncated(current.get(i), 0, current.get(i).length));
            }
            batch = new ArrayList<>(BATCH);
          }
          if (n < 0) {
            break;
          }
        }
      }
      Sha256 imageSha = Sha256.of(imageDigest.digest());
      ChunkIndex index = ChunkIndex.of(chunking, compression, size, imageSha, sizes.toArray(),
          compressedSizes.toArray(), digests.toByteArray());
      byte[] indexBytes = index.bytes();
      Files.write(indexTemp, indexBytes);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(indexTemp, indexTarget, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new PublishedImage(size, imageSha, compression, target, Files.size(target),
          Sha256.of(transferDigest.digest()), indexTarget, indexBytes.length, Sha256.digest(indexBytes),
          index.chunks(), null);
    }
  }

  /** A growable int array. */
  private static final class IntList {
    private int[] values = new int[1024];
    private int size;

    void add(int v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
