package io.otaflux.transport.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import org.reactivestreams.Publisher;

import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * A static file as nginx serves it: {@code Range: bytes=a-b} and {@code bytes=a-} answered with
 * 206, an ETag, and faults for tests (ignores Range, a flipped byte, a truncated file, a cut
 * connection). Copy-on-write: every fault returns a new route.
 */
public final class StaticFile implements TestServer.Route {

  private final byte[] bytes;
  private final boolean ranges;
  private final long flipAt;
  private final int cutRequest;
  private final long cutAfter;

  private StaticFile(byte[] bytes, boolean ranges, long flipAt, int cutRequest, long cutAfter) {
    this.bytes = bytes;
    this.ranges = ranges;
    this.flipAt = flipAt;
    this.cutRequest = cutRequest;
    this.cutAfter = cutAfter;
  }

  /**
   * Serves these bytes (not copied).
   *
   * @param bytes the file
   * @return the route
   */
  public static StaticFile of(byte[] bytes) {
    return new StaticFile(bytes, true, -1, -1, -1);
  }

  /**
   * This file, answering every request with 200 and the whole file.
   *
   * @return a new route
   */
  public StaticFile ignoringRange() {
    return new StaticFile(bytes, false, flipAt, cutRequest, cutAfter);
  }

  /**
   * This file, with the byte at {@code offset} flipped on the wire (the ETag and length unchanged).
   *
   * @param offset the file offset
   * @return a new route
   */
  public StaticFile flippingByteAt(long offset) {
    return new StaticFile(bytes, ranges, offset, cutRequest, cutAfter);
  }

  /**
   * This file, closing the connection of its {@code request}-th answer (0-based) after
   * {@code bytes} bytes of body.
   *
   * @param request which answer
   * @param after how many body bytes it sends
   * @return a new route
   */
  public StaticFile cuttingAnswer(int request, long after) {
    return new StaticFile(bytes, ranges, flipAt, request, after);
  }

  /**
   * The file's ETag.
   *
   * @return the ETag, quoted
   */
  public String etag() {
    return "\"" + Integer.toHexString(java.util.Arrays.hashCode(bytes)) + "\"";
  }

  @Override
  public Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response, int n) {
    long size = bytes.length;
    String range = request.requestHeaders().get(HttpHeaderNames.RANGE);
    long first = 0;
    long last = size - 1;
    boolean partial = false;
    if (ranges && range != null && range.startsWith("bytes=") && !range.contains(",")) {
      String spec = range.substring(6);
      int dash = spec.indexOf('-');
      first = Long.parseLong(spec.substring(0, dash));
      last = dash == spec.length() - 1 ? size - 1 : Math.min(size - 1, Long.parseLong(spec.substring(dash + 1)));
      if (first >= size) {
        return response.status(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size).send();
      }
      partial = true;
    }
    response.status(partial ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK);
    response.header(HttpHeaderNames.ACCEPT_RANGES, ranges ? "bytes" : "none");
    response.header(HttpHeaderNames.ETAG, etag());
    response.header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(last - first + 1));
    if (partial) {
      response.header(HttpHeaderNames.CONTENT_RANGE, "bytes " + first + "-" + last + "/" + size);
    }
    byte[] body = java.util.Arrays.copyOfRange(bytes, (int) first, (int) last + 1);
    if (flipAt >= first && flipAt <= last) {
      body[(int) (flipAt - first)] ^= 0x01;
    }
    boolean cut = n == cutRequest;
    ByteBuf out = Unpooled.wrappedBuffer(body, 0, cut ? (int) Math.min(body.length, cutAfter) : body.length);
    Mono<Void> sent = response.send(reactor.core.publisher.Flux.just(out), b -> true).then();
    if (cut) {
      return sent.then(Mono.fromRunnable(() -> response.withConnection(c -> c.channel().close())));
    }
    return sent;
  }
}
