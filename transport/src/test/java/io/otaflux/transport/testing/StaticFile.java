package io.otaflux.transport.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

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
 * 206, several ranges ({@code bytes=a-b,c-d}) with a {@code multipart/byteranges} 206, an ETag,
 * {@code If-Range} with another ETag answered with the whole file, and faults for tests (ignores Range, a flipped byte, a truncated file, a cut
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
    String ifRange = request.requestHeaders().get(HttpHeaderNames.IF_RANGE);
    if (ifRange != null && !ifRange.equals(etag())) {
      range = null;
    }
    List<long[]> parts = new ArrayList<>();
    if (ranges && range != null && range.startsWith("bytes=")) {
      for (String spec : range.substring(6).split(",")) {
        int dash = spec.indexOf('-');
        long first = Long.parseLong(spec.substring(0, dash).strip());
        long last = dash == spec.length() - 1 ? size - 1 : Math.min(size - 1, Long.parseLong(spec.substring(dash + 1).strip()));
        if (first < size) {
          parts.add(new long[] {first, last});
        }
      }
      if (parts.isEmpty()) {
        return response.status(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size).send();
      }
    }
    boolean partial = !parts.isEmpty();
    response.status(partial ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK);
    response.header(HttpHeaderNames.ACCEPT_RANGES, ranges ? "bytes" : "none");
    response.header(HttpHeaderNames.ETAG, etag());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (parts.size() > 1) {
      String boundary = "00000000000000000017";
      response.header(HttpHeaderNames.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary);
      for (long[] p : parts) {
        body.writeBytes(("\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes "
            + p[0] + "-" + p[1] + "/" + size + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        body.writeBytes(slice(p[0], p[1]));
      }
      body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
    } else if (partial) {
      long[] p = parts.get(0);
      response.header(HttpHeaderNames.CONTENT_RANGE, "bytes " + p[0] + "-" + p[1] + "/" + size);
      body.writeBytes(slice(p[0], p[1]));
    } else {
      body.writeBytes(slice(0, size - 1));
    }
    byte[] all = body.toByteArray();
    response.header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(all.length));
    boolean cut = n == cutRequest;
    ByteBuf out = Unpooled.wrappedBuffer(all, 0, cut ? (int) Math.min(all.length, cutAfter) : all.length);
    Mono<Void> sent = response.send(reactor.core.publisher.Flux.just(out), b -> true).then();
    if (cut) {
      return sent.then(Mono.fromRunnable(() -> response.withConnection(c -> c.channel().close())));
    }
    return sent;
  }

  private byte[] slice(long first, long last) {
    byte[] part = java.util.Arrays.copyOfRange(bytes, (int) first, (int) last + 1);
    if (flipAt >= first && flipAt <= last) {
      part[(int) (flipAt - first)] ^= 0x01;
    }
    return part;
  }
}
