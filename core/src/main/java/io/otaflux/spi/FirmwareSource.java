package io.otaflux.spi;

import io.otaflux.UpdateRequest;

import reactor.core.publisher.Mono;

/**
 * Where images come from: HTTPS in {@code otaflux-transport}, memory in
 * {@link InMemoryFirmwareSource}.
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
}
