package io.otaflux.transport;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource.Range;
import io.otaflux.spi.ImageDownload;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import reactor.netty.resources.ConnectionProvider;

/**
 * The Range requests of one file ({@link HttpsFirmwareSource#openRange} and
 * {@link HttpsFirmwareSource#readRanges}), on the {@link Exchange} set-up the whole-image fetch
 * uses (credentials, redirects, timeouts, the TLS version watch).
 * <ul>
 *   <li><b>Several ranges per request</b> ({@code Range: bytes=a-b,c-d,...}, at most
 *   {@value #MAX_RANGES} ranges and about {@value #MAX_BATCH_BYTES} bytes each); the
 *   {@code multipart/byteranges} answer is parsed as it streams, with flat memory. Up to
 *   {@value #IN_FLIGHT} requests are in flight on pooled keep-alive connections, their bytes handed on
 *   in order, so the link does not idle between requests.</li>
 *   <li>A server that answers a multi-range request with <b>one range covering them</b> is read,
 *   the bytes between the ranges dropped, unless that range is much larger than what was asked for;
 *   then, and when it answers with the <b>whole file (200)</b>, the rest is asked one range per
 *   request. A {@code 200} to a single range is {@code RANGE_NOT_SUPPORTED}.</li>
 *   <li><b>The file must stay the same</b> (RFC 9110 13.1.5): {@code If-Range} carries a strong
 *   validator; an answer with another validator, or another total size, than the first is
 *   {@code INCONSISTENT_RESPONSE} and none of its bytes is handed on.</li>
 * </ul>
 */
final class RangeFetch {

  private static final Logger log = LoggerFactory.getLogger(HttpsFirmwareSource.class);
  /** Ranges per request: well below what servers accept (Apache 200, nginx unlimited) and a short header. */
  static final int MAX_RANGES = 32;
  /** Bytes per request, so that a request waiting behind another is not left idle for long. */
  static final long MAX_BATCH_BYTES = 2L << 20;
  /** Requests in flight, each on its own pooled connection. */
  static final int IN_FLIGHT = 2;
  /** Buffers (up to 64 KiB) a request in flight may hold before its connection is paused. */
  private static final int PREFETCH = 32;
  /** A covering range may carry this many bytes besides the ones asked for before it is refused. */
  private static final long COVER_SLACK = 1L << 20;

  private final HttpsFirmwareSource.Transport transport;
  private final UpdateRequest request;
  private final @Nullable String ifRange;
  private final AtomicBoolean oneRangePerRequest = new AtomicBoolean();
  private @Nullable String firstValidator;
  private long firstTotal = -2;

  RangeFetch(HttpsFirmwareSource.Transport transport, UpdateRequest request, @Nullable String validator) {
    this.transport = transport;
    this.request = request;
    // a weak ETag must never go into If-Range (RFC 9110 13.1.5)
    this.ifRange = validator == null || validator.isBlank() || validator.startsWith("W/") ? null : validator;
  }

  /** One range, opened: its status and headers checked before any of its body is read. */
  Mono<ImageDownload> open(long first, long length) {
    Range range = new Range(first, length);
    Exchange exchange = Exchange.of(transport, request);
    return Exchange.first(exchange.get(transport.http(), request.uri(), h -> headers(h, List.of(range)),
        (uri, response, connection) -> {
          HttpHeaders headers = check(exchange, uri, response, 1);
          String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
          if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/")) {
            throw OtaException.of(Detail.MALFORMED_RESPONSE, "The server answered a single-range request for " + uri
                + " with several parts; ask its operator.");
          }
          ContentRange answered = ContentRange.parse(headers.get(HttpHeaderNames.CONTENT_RANGE), uri);
          long bodyLength = ImageFetch.contentLength(headers, uri);
          if (answered.first() != first || answered.last() != range.last()
              || (bodyLength >= 0 && bodyLength != length)) {
            throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for bytes " + first
                + "-" + range.last() + " of " + uri + " with " + headers.get(HttpHeaderNames.CONTENT_RANGE)
                + "; ask its operator.");
          }
          List<String> warnings = transport.trust().warnings(ImageFetch.peerChain(connection));
          return new HttpsDownload(connection, uri, first, answered.complete(), ImageFetch.validator(headers),
              warnings, transport).held();
        })).cast(ImageDownload.class);
  }

  /** The bytes of {@code ranges}, in order, several ranges per request, requests in flight. */
  Flux<ByteBuffer> read(List<Range> ranges) {
    List<List<Range>> batches = batches(ranges);
    return Flux.usingWhen(
        Mono.fromSupplier(() -> ConnectionProvider.builder("otaflux-ranges").maxConnections(IN_FLIGHT)
            .pendingAcquireTimeout(transport.idleTimeout()).maxIdleTime(transport.idleTimeout()).build()),
        pool -> {
          TlsVersionWatch tls = new TlsVersionWatch();
          HttpClient client = tls.on(transport.pooled(pool));
          return Flux.fromIterable(batches).flatMapSequential(batch -> batch(client, tls, batch), IN_FLIGHT, PREFETCH);
        },
        ConnectionProvider::disposeLater, (pool, e) -> pool.disposeLater(), ConnectionProvider::disposeLater);
  }

  static List<List<Range>> batches(List<Range> ranges) {
    List<List<Range>> batches = new ArrayList<>();
    List<Range> batch = new ArrayList<>();
    long bytes = 0;
    long end = -1;
    for (Range r : ranges) {
      if (r.first() <= end) {
        throw new IllegalArgumentException("ranges must be ascending and must not overlap");
      }
      if (!batch.isEmpty() && (batch.size() == MAX_RANGES || bytes + r.length() > MAX_BATCH_BYTES)) {
        batches.add(batch);
        batch = new ArrayList<>();
        bytes = 0;
      }
      batch.add(r);
      bytes += r.length();
      end = r.last();
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    return batches;
  }

  private Flux<ByteBuffer> batch(HttpClient client, TlsVersionWatch tls, List<Range> batch) {
    return Flux.defer(() -> {
      if (batch.size() > 1 && oneRangePerRequest.get()) {
        return Flux.fromIterable(batch).concatMap(r -> batch(client, tls, List.of(r)), 1);
      }
      Cursor cursor = new Cursor(batch);
      // each request follows its own redirects (a loop is a loop within one request)
      Exchange exchange = Exchange.of(transport, request);
      return exchange.get(client, request.uri(), tls, h -> headers(h, batch),
              (uri, response, connection) -> answer(exchange, uri, response, connection, batch, cursor))
          .concatWith(Mono.defer(() -> cursor.missing() == 0 ? Mono.empty()
              : Mono.error(OtaException.transientFailure(Detail.CONNECTION_LOST, "The answer from "
                  + Failures.origin(request.uri()) + " ended " + cursor.missing() + " bytes before the end of the"
                  + " ranges asked for.", null))))
          .onErrorResume(Exchange.AskAgain.class::isInstance, e -> {
            if (oneRangePerRequest.compareAndSet(false, true)) {
              log.info("{} does not serve several ranges per request ({}); asking one range per request",
                  Failures.origin(request.uri()), e.getMessage());
            }
            return batch(client, tls, batch);
          });
    });
  }

  private Publisher<ByteBuffer> answer(Exchange exchange, URI uri, HttpClientResponse response, Connection connection,
      List<Range> batch, Cursor cursor) {
    HttpHeaders headers = check(exchange, uri, response, batch.size());
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
    Flux<ByteBuffer> body = new HttpsDownload(connection, uri, batch.get(0).first(), -1, null, List.of(), transport)
        .body();
    if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/byteranges")) {
      Multipart parts = new Multipart(boundary(type, uri), cursor, uri);
      return body.concatMapIterable(parts::accept);
    }
    ContentRange range = ContentRange.parse(headers.get(HttpHeaderNames.CONTENT_RANGE), uri);
    total(uri, range.complete());
    long first = batch.get(0).first();
    long last = batch.get(batch.size() - 1).last();
    long bodyLength = ImageFetch.contentLength(headers, uri);
    if (range.first() > first || range.last() < last || (bodyLength >= 0 && bodyLength != range.length())) {
      throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for bytes "
          + headers(batch) + " of " + uri + " with " + headers.get(HttpHeaderNames.CONTENT_RANGE) + "; ask its"
          + " operator.");
    }
    long wanted = batch.stream().mapToLong(Range::length).sum();
    if (batch.size() > 1 && range.length() - wanted > wanted + COVER_SLACK) {
      throw new Exchange.AskAgain("it answered " + batch.size() + " ranges with one range of " + range.length()
          + " bytes for " + wanted + " bytes asked for");
    }
    long[] position = {range.first()};
    return body.concatMapIterable(b -> {
      long at = position[0];
      position[0] += b.remaining();
      if (position[0] > range.last() + 1) {
        throw ContentRange.malformed(uri, "it sent more bytes than its Content-Range says");
      }
      return cursor.accept(at, b);
    });
  }

  /** The headers of a 200 or 206 answer, after the checks every range answer passes. */
  private HttpHeaders check(Exchange exchange, URI uri, HttpClientResponse response, int ranges) {
    int code = response.status().code();
    HttpHeaders headers = response.responseHeaders();
    if (code != 200 && code != 206) {
      throw exchange.status(uri, response);
    }
    // RFC 9110 13.1.5: an answer to If-Range with another validator is of another file; so is an
    // answer naming another validator than the first answer did
    String now = ImageFetch.validatorOf(headers);
    String before;
    synchronized (this) {
      before = firstValidator;
      if (before == null) {
        firstValidator = now;
      }
    }
    if ((ifRange != null && !ImageFetch.continues(ifRange, headers)) || (before != null && !before.equals(now))) {
      throw switched(uri, now);
    }
    if (code == 200) {
      if (ranges > 1) {
        throw new Exchange.AskAgain("it answered " + ranges + " ranges with the whole file");
      }
      throw OtaException.of(Detail.RANGE_NOT_SUPPORTED, "the server answered a Range request for " + uri
          + " with the whole file (200)");
    }
    return headers;
  }

  private synchronized void total(URI uri, long total) {
    if (firstTotal == -2) {
      firstTotal = total;
    } else if (total != firstTotal) {
      throw switched(uri, "a size of " + total + " bytes");
    }
  }

  private OtaException switched(URI uri, String now) {
    return OtaException.of(Detail.INCONSISTENT_RESPONSE, "The file " + uri + " changed on the server during the update"
        + " (its answers now name " + now + "); none of the changed answer was written and nothing was activated."
        + " Run the update again.");
  }

  private void headers(HttpHeaders h, List<Range> batch) {
    h.set(HttpHeaderNames.RANGE, "bytes=" + headers(batch));
    if (ifRange != null) {
      h.set(HttpHeaderNames.IF_RANGE, ifRange);
    }
  }

  private static String headers(List<Range> batch) {
    StringBuilder b = new StringBuilder();
    for (Range r : batch) {
      b.append(b.length() == 0 ? "" : ",").append(r.first()).append('-').append(r.last());
    }
    return b.toString();
  }

  static String boundary(String contentType, URI uri) {
    for (String param : contentType.split(";")) {
      String p = param.strip();
      if (p.regionMatches(true, 0, "boundary=", 0, 9)) {
        String value = p.substring(9).strip();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        if (!value.isEmpty() && value.length() <= 70) {
          return value;
        }
      }
    }
    throw ContentRange.malformed(uri, "its multipart/byteranges answer names no boundary");
  }

  /**
   * Which bytes of what arrives were asked for: bytes of the file at known positions come in
   * ascending order (parts, or one range covering several); the ones inside the wanted ranges are
   * handed on as views of the same buffer, the others dropped; a byte asked for that is skipped is an
   * inconsistent answer.
   */
  static final class Cursor {
    private final List<Range> wanted;
    private int index;
    private long done;

    Cursor(List<Range> wanted) {
      this.wanted = wanted;
    }

    List<ByteBuffer> accept(long position, ByteBuffer data) {
      List<ByteBuffer> out = new ArrayList<>(1);
      long end = position + data.remaining();
      while (index < wanted.size()) {
        Range r = wanted.get(index);
        long next = r.first() + done;
        if (end <= next) {
          break;
        }
        if (position > next) {
          throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server's answer skipped bytes " + next + "-"
              + (position - 1) + ", which were asked for; ask its operator.");
        }
        long stop = Math.min(end, r.last() + 1);
        ByteBuffer slice = data.duplicate();
        slice.limit(data.position() + (int) (stop - position)).position(data.position() + (int) (next - position));
        out.add(slice.slice());
        done += stop - next;
        if (done == r.length()) {
          index++;
          done = 0;
        }
        if (stop == end) {
          break;
        }
      }
      return out;
    }

    /** Bytes asked for and not received yet. */
    long missing() {
      long left = 0;
      for (int k = index; k < wanted.size(); k++) {
        left += wanted.get(k).length();
      }
      return left - done;
    }
  }

  /**
   * A {@code multipart/byteranges} body (RFC 9110 14.6), parsed as it streams: the text between
   * parts (bounded) is read for each part's {@code Content-Range}; each part's bytes go to the
   * {@link Cursor} as they arrive, never collected.
   */
  static final class Multipart {
    private static final int MAX_HEAD = 8 * 1024;
    private final String delimiter;
    private final Cursor cursor;
    private final URI uri;
    private final StringBuilder head = new StringBuilder();
    private long position;
    private long remaining;
    private boolean ended;

    Multipart(String boundary, Cursor cursor, URI uri) {
      this.delimiter = "--" + boundary;
      this.cursor = cursor;
      this.uri = uri;
    }

    List<ByteBuffer> accept(ByteBuffer b) {
      List<ByteBuffer> out = new ArrayList<>(2);
      while (b.hasRemaining() && !ended) {
        if (remaining > 0) {
          int n = (int) Math.min(remaining, b.remaining());
          ByteBuffer part = b.duplicate();
          part.limit(b.position() + n);
          out.addAll(cursor.accept(position, part));
          b.position(b.position() + n);
          position += n;
          remaining -= n;
          continue;
        }
        char c = (char) (b.get() & 0xff);
        head.append(c);
        if (head.length() > MAX_HEAD) {
          throw ContentRange.malformed(uri, "the text between the parts of its multipart answer is too long");
        }
        if (c == '\n') {
          nextPart();
        }
      }
      return out;
    }

    private void nextPart() {
      int at = head.indexOf(delimiter);
      if (at < 0) {
        return;
      }
      int after = at + delimiter.length();
      if (head.length() >= after + 2 && head.charAt(after) == '-' && head.charAt(after + 1) == '-') {
        ended = true;
        return;
      }
      int end = head.indexOf("\r\n\r\n", after);
      if (end < 0) {
        return;
      }
      String range = null;
      for (String line : head.substring(after, end).split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Content-Range")) {
          range = line.substring(colon + 1);
        }
      }
      ContentRange r = ContentRange.parse(range, uri);
      position = r.first();
      remaining = r.length();
      head.setLength(0);
    }
  }
}
