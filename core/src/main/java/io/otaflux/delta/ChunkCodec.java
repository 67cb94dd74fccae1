package io.otaflux.delta;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/** One chunk compressed on its own: a zstd frame, an xz stream or a gzip member. */
final class ChunkCodec {

  private ChunkCodec() {
  }

  static byte[] compress(Compression compression, byte[] data, int offset, int length, int level) {
    try {
      switch (compression) {
        case ZSTD: {
          byte[] exact = offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset,
              offset + length);
          return ZstdCodec.compress(exact, level);
        }
        case XZ: {
          ByteArrayOutputStream out = new ByteArrayOutputStream(length / 2 + 64);
          LZMA2Options options = new LZMA2Options(Math.min(9, Math.max(0, level)));
          options.setDictSize(Math.max(LZMA2Options.DICT_SIZE_MIN, Integer.highestOneBit(Math.max(1, length)) * 2));
          try (XZOutputStream xz = new XZOutputStream(out, options)) {
            xz.write(data, offset, length);
          }
          return out.toByteArray();
        }
        case GZIP: {
          ByteArrayOutputStream out = new ByteArrayOutputStream(length / 2 + 64);
          try (OutputStream gz = new LevelGzip(out, Math.min(9, Math.max(1, level)))) {
            gz.write(data, offset, length);
          }
          return out.toByteArray();
        }
        default:
          return java.util.Arrays.copyOfRange(data, offset, offset + length);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes one chunk of known size; throws on damage, a short or a long result. */
  static byte[] decompress(Compression compression, byte[] frame, int size) throws IOException {
    if (compression == Compression.ZSTD) {
      return ZstdCodec.decompress(frame, size);
    }
    if (compression == Compression.NONE) {
      if (frame.length != size) {
        throw new IOException("the chunk has " + frame.length + " bytes, not " + size);
      }
      return frame;
    }
    try (InputStream in = Decoding.open(new ByteArrayInputStream(frame), compression)) {
      byte[] out = new byte[size];
      int done = 0;
      while (done < size) {
        int n = in.read(out, done, size - done);
        if (n < 0) {
          throw new IOException("the chunk decodes to " + done + " bytes, not " + size);
        }
        done += n;
      }
      if (in.read() >= 0) {
        throw new IOException("the chunk decodes to more than " + size + " bytes");
      }
      return out;
    }
  }

  /** {@link GZIPOutputStream} with a compression level. */
  private static final class LevelGzip extends GZIPOutputStream {
    LevelGzip(OutputStream out, int level) throws IOException {
      super(out, 64 * 1024);
      def.setLevel(level);
    }
  }

  static int defaultLevel(Compression compression) {
    switch (compression) {
      case ZSTD: return 19;
      case XZ: return 6;
      case GZIP: return Deflater.BEST_COMPRESSION;
      default: return 0;
    }
  }
}
