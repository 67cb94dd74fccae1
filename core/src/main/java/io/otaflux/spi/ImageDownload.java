package io.otaflux.spi;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;

/**
 * An image a {@link FirmwareSource} has opened: the answer's metadata, known before the first
 * byte of the body, and the body itself.
 */
public interface ImageDownload {

  /**
   * Where the image really is, after redirects, without user-info.
   *
   * @return the effective URL
   */
  URI effectiveUri();

  /**
   * The byte offset of the body's first byte within the image: the offset asked for, or 0 when
   * the source could not resume and sends the whole image again.
   *
   * @return the offset of the first body byte
   */
  long offset();

  /**
   * The size of the whole image (not of this body), if the source knows it.
   *
   * @return the image size or empty
   */
  OptionalLong totalSize();

  /**
   * The image's validator (an ETag or Last-Modified) to resume it later, if the source has one.
   *
   * @return the validator or null
   */
  @Nullable String validator();

  /**
   * Things a person should know that do not stop the download (an expired trust anchor, say).
   *
   * @return the warnings, often empty
   */
  List<String> warnings();

  /**
   * The bytes from {@link #offset()} on. Subscribe at most once.
   *
   * <p><b>Ownership:</b> each buffer belongs to the subscriber once emitted: the source never
   * touches it again, so it may cross threads.
   *
   * <p><b>Backpressure:</b> the source reads no further than requested, apart from one small
   * read buffer.
   *
   * <p><b>Cancellation:</b> cancelling closes the connection at once.
   *
   * <p><b>Errors:</b> an {@link io.otaflux.OtaException}: {@code NETWORK} and transient for a
   * lost connection or a read timeout.
   *
   * @return the body
   */
  Flux<ByteBuffer> body();

  /**
   * Releases the download without reading its body (closes the connection). Idempotent; a no-op
   * once the body has been subscribed.
   */
  void discard();
}
