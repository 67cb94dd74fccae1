package io.otaflux.internal;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

import io.otaflux.spi.ImageDownload;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;

/**
 * An {@link ImageDownload} made of its parts: a delta's reassembled bytes, a download whose body
 * is counted or replaced, the test kit's in-memory source.
 *
 * @param effectiveUri the URL the bytes came from
 * @param offset the image offset of the body's first byte
 * @param totalSize the whole image's size, when known
 * @param validator the validator a resume must present, if any
 * @param warnings warnings for the user
 * @param body the bytes
 * @param onDiscard what {@link #discard()} does (closes a connection, say)
 */
public record Download(URI effectiveUri, long offset, OptionalLong totalSize, @Nullable String validator,
    List<String> warnings, Flux<ByteBuffer> body, Runnable onDiscard) implements ImageDownload {

  /**
   * Checks and copies the parts.
   *
   * @param effectiveUri the URL the bytes came from
   * @param offset the image offset of the body's first byte
   * @param totalSize the whole image's size, when known
   * @param validator the validator a resume must present, if any
   * @param warnings warnings for the user
   * @param body the bytes
   * @param onDiscard what {@link #discard()} does
   */
  public Download {
    Objects.requireNonNull(effectiveUri, "effectiveUri");
    Objects.requireNonNull(totalSize, "totalSize");
    warnings = List.copyOf(warnings);
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(onDiscard, "onDiscard");
  }

  /**
   * A download with no warnings and nothing to release when it is discarded.
   *
   * @param effectiveUri the URL the bytes came from
   * @param offset the image offset of the body's first byte
   * @param totalSize the whole image's size, when known
   * @param validator the validator a resume must present, if any
   * @param body the bytes
   * @return the download
   */
  public static Download of(URI effectiveUri, long offset, OptionalLong totalSize, @Nullable String validator,
      Flux<ByteBuffer> body) {
    return new Download(effectiveUri, offset, totalSize, validator, List.of(), body, () -> { });
  }

  /**
   * Another download with its body replaced (counted, decoded, checked); discarding it discards
   * the other.
   *
   * @param download the download
   * @param body the new body
   * @return the download
   */
  public static Download withBody(ImageDownload download, Flux<ByteBuffer> body) {
    return new Download(download.effectiveUri(), download.offset(), download.totalSize(), download.validator(),
        download.warnings(), body, download::discard);
  }

  @Override
  public void discard() {
    onDiscard.run();
  }
}
