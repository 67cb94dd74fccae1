package io.otaflux.spi;

import io.otaflux.OtaException;
import io.otaflux.UpdateRequest;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;

/**
 * Where images come from: HTTPS in {@code otaflux-transport}, memory in
 * {@code otaflux-testkit}'s {@code InMemoryFirmwareSource}.
 */
public interface FirmwareSource {

  /**
   * Opens the image of a request from a byte offset.
   *
   * <p>The {@code Mono} succeeds once the answer's metadata is known and checked (status,
   * redirects, length); nothing of the body has been read then. When {@code from.offset()} is
   * above zero the source asks for the rest only, and only if the image's validator still
   * matches: if the source sends the whole image instead, {@link ImageDownload#offset()} is 0.
   *
   * <p><b>Cancellation:</b> cancelling before the {@code Mono} succeeds closes any connection.
   *
   * <p><b>Errors:</b> {@link io.otaflux.OtaException} with a reason: {@code TRUST},
   * {@code NETWORK} (transient when it may pass), {@code SERVER} (transient for 5xx and 429),
   * {@code POLICY}, {@code USAGE}.
   *
   * @param request what to fetch, with its credentials
   * @param from where to start
   * @return the opened image
   */
  Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from);

  /**
   * Opens bytes {@code from} to {@code from + length - 1} of a file (an HTTP {@code Range}
   * request): the delta update's way to fetch only the chunks a device lacks.
   *
   * <p>The download's {@link ImageDownload#offset()} is {@code from}, its body exactly
   * {@code length} bytes, and its {@link ImageDownload#totalSize()} the whole file's size.
   *
   * <p><b>Errors:</b> as {@link #open}; {@code RANGE_NOT_SUPPORTED} (not transient) when the
   * source cannot serve a range (a server that answers with the whole file); that is the default.
   *
   * @param request the file and its credentials
   * @param from the first byte
   * @param length how many bytes, at least 1
   * @param validator the file's validator from an earlier answer ({@code If-Range}), or null
   * @return the opened range
   */
  default Mono<ImageDownload> openRange(UpdateRequest request, long from, long length, @Nullable String validator) {
    return Mono.error(OtaException.of(OtaException.Detail.RANGE_NOT_SUPPORTED,
        "This firmware source (" + getClass().getSimpleName() + ") cannot fetch byte ranges."));
  }
}
