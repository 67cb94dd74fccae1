package io.otaflux.spi;

import java.net.URI;
import java.util.Objects;

import io.otaflux.Sha256;

import org.jspecify.annotations.Nullable;

/**
 * What a store records of a verified image when its write is committed.
 *
 * @param size the image size in bytes
 * @param sha256 the digest of the bytes written
 * @param effectiveUri where it came from, without user-info
 * @param version its version, or null
 */
public record ImageMetadata(long size, Sha256 sha256, URI effectiveUri, @Nullable String version) {

  /**
   * Checks the parts.
   *
   * @param size the size
   * @param sha256 the digest
   * @param effectiveUri the URL
   * @param version the version or null
   */
  public ImageMetadata {
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(effectiveUri, "effectiveUri");
    if (size < 0) {
      throw new IllegalArgumentException("size must be >= 0, was " + size);
    }
  }
}
