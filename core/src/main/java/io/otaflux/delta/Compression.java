package io.otaflux.delta;

import java.util.Locale;
import java.util.Objects;

import io.otaflux.OtaException;

/** How a transferred image is compressed. */
public enum Compression {
  /** Not compressed: the transferred bytes are the image. */
  NONE("none", ""),
  /** Zstandard (RFC 8878) frames; decoded with {@code com.github.luben:zstd-jni}. */
  ZSTD("zstd", ".zst"),
  /** xz streams (LZMA2); decoded with {@code org.tukaani:xz}. */
  XZ("xz", ".xz"),
  /** gzip members (RFC 1952); decoded with the JDK's {@link java.util.zip.Inflater}. */
  GZIP("gzip", ".gz");

  private final String label;
  private final String suffix;

  Compression(String label, String suffix) {
    this.label = label;
    this.suffix = suffix;
  }

  /**
   * The name used in manifests and on the command line.
   *
   * @return {@code none}, {@code zstd}, {@code xz} or {@code gzip}
   */
  public String label() {
    return label;
  }

  /**
   * The file name suffix of a file compressed this way.
   *
   * @return {@code .zst}, {@code .xz}, {@code .gz}, or empty
   */
  String suffix() {
    return suffix;
  }

  /**
   * The compression with this label.
   *
   * @param label {@code none}, {@code zstd}, {@code xz} or {@code gzip} (any case)
   * @return the compression
   * @throws OtaException {@code INVALID_REQUEST} for another label
   */
  public static Compression ofLabel(String label) {
    Objects.requireNonNull(label, "label");
    String l = label.strip().toLowerCase(Locale.ROOT);
    for (Compression c : values()) {
      if (c.label.equals(l)) {
        return c;
      }
    }
    throw OtaException.of(OtaException.Detail.INVALID_REQUEST, "Unknown compression \"" + label
        + "\"; use zstd, xz or gzip.");
  }
}
