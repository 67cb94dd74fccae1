package io.otaflux.spi;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

import io.otaflux.Sha256;
import io.otaflux.UpdateRequest;

import org.jspecify.annotations.Nullable;

/**
 * What a slot store is told of the image about to be written, before the source is opened. A
 * store resumes an earlier, interrupted write only for the same image: the same expected digest,
 * or (without one) the same URL.
 *
 * @param uri the image URL as requested, without user-info
 * @param size the expected size, or -1 when not known
 * @param sha256 the expected digest, or null
 * @param version the image version, or null
 */
public record ImageSpec(URI uri, long size, @Nullable Sha256 sha256, @Nullable String version) {

  /**
   * Checks the URI.
   *
   * @param uri the URL
   * @param size the size or -1
   * @param sha256 the digest or null
   * @param version the version or null
   */
  public ImageSpec {
    Objects.requireNonNull(uri, "uri");
  }

  /**
   * What a request says of its image.
   *
   * @param request the request
   * @return the spec
   */
  public static ImageSpec of(UpdateRequest request) {
    return new ImageSpec(request.uri(), request.size().orElse(-1), request.sha256().orElse(null),
        request.version().orElse(null));
  }

  /**
   * The expected size, if known.
   *
   * @return the size or empty
   */
  public OptionalLong sizeIfKnown() {
    return size < 0 ? OptionalLong.empty() : OptionalLong.of(size);
  }

  /**
   * The expected digest, if known.
   *
   * @return the digest or empty
   */
  public Optional<Sha256> sha256IfKnown() {
    return Optional.ofNullable(sha256);
  }

  /**
   * Whether an interrupted write of {@code earlier} may be resumed for this image.
   *
   * @param earlier the spec the interrupted write was opened with
   * @return true when both name the same digest, or neither names one and the URLs are equal
   */
  public boolean isSameImageAs(ImageSpec earlier) {
    if (sha256 != null || earlier.sha256 != null) {
      return Objects.equals(sha256, earlier.sha256);
    }
    return uri.equals(earlier.uri) && (size < 0 || earlier.size < 0 || size == earlier.size);
  }
}
