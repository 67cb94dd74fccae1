package io.otaflux.spi;

import java.nio.ByteBuffer;
import java.util.List;

import io.otaflux.OtaException;
import io.otaflux.UpdateRequest;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
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

  /**
   * Reads several byte ranges of a file, in order: the bytes of {@code ranges}, one after the
   * other, nothing between them. A source may ask for several ranges per request and keep its
   * requests in flight; the default opens each range with {@link #openRange} in turn.
   *
   * <p><b>Errors:</b> as {@link #openRange}; {@code INCONSISTENT_RESPONSE} when the file changed
   * between two requests (its validator differs) or an answer does not hold what was asked for;
   * {@code CONNECTION_LOST} (transient) when an answer ends before the bytes asked for.
   *
   * @param request the file and its credentials
   * @param ranges the ranges, ascending and not overlapping
   * @param validator the file's validator from an earlier answer ({@code If-Range}), or null
   * @return the bytes of the ranges, in order
   */
  default Flux<ByteBuffer> readRanges(UpdateRequest request, List<Range> ranges, @Nullable String validator) {
    return Flux.fromIterable(ranges).concatMap(r -> openRange(request, r.first(), r.length(), validator)
        .flatMapMany(d -> {
          if (d.offset() != r.first()) {
            d.discard();
            return Flux.error(OtaException.of(OtaException.Detail.INCONSISTENT_RESPONSE, "The server sent bytes from "
                + d.offset() + " of " + request.uri() + " when " + r.first() + " was asked for."));
          }
          return d.body();
        }), 1);
  }

  /**
   * Bytes {@code first} to {@code first + length - 1} of a file.
   *
   * @param first the first byte, at least 0
   * @param length how many bytes, at least 1
   */
  record Range(long first, long length) {

    /**
     * Checks the bounds.
     *
     * @param first the first byte, at least 0
     * @param length how many bytes, at least 1
     */
    public Range {
      if (first < 0 || length < 1) {
        throw new IllegalArgumentException("a range needs first >= 0 and length >= 1, not " + first + "+" + length);
      }
    }

    /**
     * The last byte.
     *
     * @return {@code first + length - 1}
     */
    public long last() {
      return first + length - 1;
    }
  }
}
