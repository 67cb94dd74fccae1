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
   * The same bytes as {@link #body()}, in buffers the source only lends: each stays the source's
   * and is handed back with {@link #giveBack(ByteBuffer)} as soon as the subscriber is done with it,
   * which lets a source hand over its own receive memory instead of a copy. Subscribe at most once,
   * to this or to {@link #body()}.
   *
   * <p><b>Ownership:</b> the subscriber must give back every buffer it receives, also when it fails
   * or is cancelled, including buffers still queued in its operators (a {@code doOnDiscard} hook);
   * a buffer must not be touched after it was given back. A buffer never given back keeps the
   * source's memory held. The default lends the copies of {@link #body()}.
   *
   * @return the body, lent
   */
  default Flux<ByteBuffer> lentBody() {
    return body();
  }

  /**
   * Takes back a buffer of {@link #lentBody()}. Idempotent: a buffer given back twice, or one this
   * download did not lend, is ignored. May be called from any thread.
   *
   * @param chunk a buffer the lent body emitted
   */
  default void giveBack(ByteBuffer chunk) {
    // the default lends copies: nothing to take back
  }

  /**
   * Releases the download without reading its body (closes the connection). Idempotent; a no-op
   * once the body has been subscribed.
   */
  void discard();
}
