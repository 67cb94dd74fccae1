package io.otaflux.transport.testing;

import java.util.Map;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** Ready-made {@link TestServer.Route}s: an image server with faults, redirects, statuses. */
public final class Routes {

  /** Last-Modified of every test image. */
  public static final String LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT";

  private Routes() {
  }

  /**
   * Serves {@code image} with Content-Length, an ETag and Last-Modified, honouring
   * {@code Range: bytes=N-} with {@code If-Range} (416 past the end).
   *
   * @param image the bytes
   * @return the route
   */
  public static Image image(byte[] image) {
    return new Image(image, "\"" + Integer.toHexString(java.util.Arrays.hashCode(image)) + "-" + image.length + "\"",
        LAST_MODIFIED, true, true, -1, -1);
  }

  /**
   * Redirects with {@code status} to {@code location}.
   *
   * @param status 301, 302, 303, 307 or 308
   * @param location the Location header
   * @return the route
   */
  public static TestServer.Route redirect(int status, String location) {
    return (request, response, n) -> response.status(status).header(HttpHeaderNames.LOCATION, location).send();
  }

  /**
   * Answers {@code status} with these headers and a small text body.
   *
   * @param status the status
   * @param headers extra headers
   * @return the route
   */
  public static TestServer.Route status(int status, Map<String, String> headers) {
    return (request, response, n) -> {
      response.status(status);
      headers.forEach(response::header);
      return response.sendString(Mono.just("status " + status + " body that must not be taken for an image\n"));
    };
  }

  /**
   * Answers nothing, ever (a server stuck before its headers).
   *
   * @return the route
   */
  public static TestServer.Route neverAnswer() {
    return (request, response, n) -> Mono.never();
  }

  /** An image route; copy-on-write options. */
  public static final class Image implements TestServer.Route {
    private static final int SLICE = 16 * 1024;

    private final byte[] bytes;
    private final @Nullable String etag;
    private final @Nullable String lastModified;
    private final boolean length;
    private final boolean ranges;
    private final long cutFirstAt;
    private final long stallFirstAt;

    Image(byte[] bytes, @Nullable String etag, @Nullable String lastModified, boolean length, boolean ranges,
        long cutFirstAt, long stallFirstAt) {
      this.bytes = bytes;
      this.etag = etag;
      this.lastModified = lastModified;
      this.length = length;
      this.ranges = ranges;
      this.cutFirstAt = cutFirstAt;
      this.stallFirstAt = stallFirstAt;
    }

    /** @return the ETag sent, or null */
    public @Nullable String etag() {
      return etag;
    }

    /**
     * The first answer closes the connection once the image up to byte {@code offset} is sent.
     *
     * @param offset the image offset of the cut
     * @return a new route
     */
    public Image cutFirstAt(long offset) {
      return new Image(bytes, etag, lastModified, length, ranges, offset, stallFirstAt);
    }

    /**
     * The first answer stops sending (keeping the connection open) at byte {@code offset}.
     *
     * @param offset the image offset of the stall
     * @return a new route
     */
    public Image stallFirstAt(long offset) {
      return new Image(bytes, etag, lastModified, length, ranges, cutFirstAt, offset);
    }

    /** @return a new route sending no Content-Length (chunked) */
    public Image withoutLength() {
      return new Image(bytes, etag, lastModified, false, ranges, cutFirstAt, stallFirstAt);
    }

    /** @return a new route answering every request with the whole image (200) */
    public Image ignoringRange() {
      return new Image(bytes, etag, lastModified, length, false, cutFirstAt, stallFirstAt);
    }

    /** @return a new route sending Last-Modified but no ETag */
    public Image withoutEtag() {
      return new Image(bytes, null, lastModified, length, ranges, cutFirstAt, stallFirstAt);
    }

    /**
     * This image with another ETag (as if it changed on the server).
     *
     * @param etag the new ETag
     * @return a new route
     */
    public Image etag(String etag) {
      return new Image(bytes, etag, lastModified, length, ranges, cutFirstAt, stallFirstAt);
    }

    @Override
    public Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response, int n) {
      long size = bytes.length;
      String range = request.requestHeaders().get(HttpHeaderNames.RANGE);
      String ifRange = request.requestHeaders().get(HttpHeaderNames.IF_RANGE);
      long start = 0;
      boolean partial = false;
      if (ranges && range != null && range.startsWith("bytes=") && range.endsWith("-")) {
        boolean fresh = ifRange == null || ifRange.equals(etag) || ifRange.equals(lastModified);
        if (fresh) {
          long from = Long.parseLong(range.substring(6, range.length() - 1));
          if (from >= size) {
            return response.status(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size).send();
          }
          start = from;
          partial = true;
        }
      }
      response.status(partial ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK);
      response.header(HttpHeaderNames.ACCEPT_RANGES, "bytes");
      // a Date after Last-Modified makes the date a strong validator (RFC 9110 8.8.2.2)
      response.header(HttpHeaderNames.DATE, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
          .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)));
      if (etag != null) {
        response.header(HttpHeaderNames.ETAG, etag);
      }
      if (lastModified != null) {
        response.header(HttpHeaderNames.LAST_MODIFIED, lastModified);
      }
      if (length) {
        response.header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(size - start));
      } else {
        response.chunkedTransfer(true);
      }
      if (partial) {
        response.header(HttpHeaderNames.CONTENT_RANGE, "bytes " + start + "-" + (size - 1) + "/" + size);
      }
      long end = size;
      boolean cut = n == 0 && cutFirstAt >= 0;
      boolean stall = n == 0 && stallFirstAt >= 0;
      if (cut) {
        end = Math.max(start, Math.min(size, cutFirstAt));
      } else if (stall) {
        end = Math.max(start, Math.min(size, stallFirstAt));
      }
      Mono<Void> sent = response.send(slices(start, end), b -> true).then();
      if (cut) {
        return sent.then(Mono.fromRunnable(() -> response.withConnection(c -> c.channel().close())));
      }
      if (stall) {
        return sent.then(Mono.never());
      }
      return sent;
    }

    private Flux<ByteBuf> slices(long from, long to) {
      return Flux.generate(() -> from, (offset, sink) -> {
        if (offset >= to) {
          sink.complete();
          return offset;
        }
        int n = (int) Math.min(SLICE, to - offset);
        sink.next(Unpooled.wrappedBuffer(bytes, (int) (long) offset, n));
        return offset + n;
      });
    }
  }
}
