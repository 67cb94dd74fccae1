package io.otaflux.delta;

import java.io.IOException;
import java.io.InputStream;

import java.io.OutputStream;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;

/**
 * The only class that names zstd-jni: an optional dependency, so a missing jar surfaces as a
 * {@link LinkageError} where zstd is used, never when this package loads.
 */
final class ZstdCodec {

  private ZstdCodec() {
  }

  static InputStream decoder(InputStream in) throws IOException {
    ZstdInputStreamNoFinalizer zstd = new ZstdInputStreamNoFinalizer(in);
    zstd.setContinuous(false);
    return zstd;
  }

  static OutputStream encoder(OutputStream out, int level) throws IOException {
    ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(out, level);
    zstd.setChecksum(true);
    return zstd;
  }

  static byte[] compress(byte[] data, int level) {
    return Zstd.compress(data, level);
  }

  /** Decodes one frame of known size; fails on anything else. */
  static byte[] decompress(byte[] frame, int size) {
    byte[] out = new byte[size];
    long n = Zstd.decompressByteArray(out, 0, size, frame, 0, frame.length);
    if (Zstd.isError(n)) {
      throw new IllegalStateException(Zstd.getErrorName(n));
    }
    if (n != size) {
      throw new IllegalStateException("the frame holds " + n + " bytes, not " + size);
    }
    return out;
  }
}
