package io.otaflux.transport;

import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;

/**
 * One {@link HttpsFirmwareSource#openRange}: a bounded {@code Range: bytes=a-b} request, following
 * redirects as {@link ImageFetch} does. Only a 206 for exactly the range asked for is accepted: a
 * 200 (the server ignores Range) is {@code RANGE_NOT_SUPPORTED}, another range is
 * {@code INCONSISTENT_RESPONSE}.
 */
final class RangeFetch {

  private static final Logger log = LoggerFactory.getLogger(HttpsFirmwareSource.class);

  private record Redirect(String location) {
  }

  private final HttpsFirmwareSource.Transport transport;
  private final URI origin;
  private final @Nullable Credentials credentials;
  private final Redirects redirects;
  private final long first;
  private final long last;
  private final @Nullable String validator;
  private boolean onOrigin = true;

  RangeFetch(HttpsFirmwareSource.Transport transport, UpdateRequest request, long from, long length,
      @Nullable String validator) {
    this.transport = transport;
    this.origin = request.uri();
    this.credentials = request.credentials().orElse(null);
    this.redirects = new Redirects(origin, transport.maxRedirects());
    this.first = from;
    this.last = from + length - 1;
    this.validator = validator;
  }

  Mono<ImageDownload> open() {
    return hop(origin);
  }

  private Mono<ImageDownload> hop(URI uri) {
    if (!Redirects.sameOrigin(uri, origin)) {
      onOrigin = false;
    }
    return exchange(uri, credentials != null && onOrigin).flatMap(answer -> {
      if (answer instanceof Redirect) {
        URI next = redirects.next(uri, ((Redirect) answer).location());
        return hop(next);
      }
      return Mono.just((ImageDownload) answer);
    });
  }

  private Mono<Object> exchange(URI uri, boolean authorize) {
    Credentials auth = authorize ? credentials : null;
    HttpClient client = transport.http().headers(h -> {
      if (auth != null) {
        h.set(HttpHeaderNames.AUTHORIZATION, auth.authorization());
      }
      h.set(HttpHeaderNames.RANGE, "bytes=" + first + "-" + last);
      if (validator != null) {
        h.set(HttpHeaderNames.IF_RANGE, validator);
      }
    });
    return Mono.create(sink -> {
      AtomicBoolean settled = new AtomicBoolean();
      Disposable.Swap deadline = Disposables.swap();
      Disposable.Swap callRef = Disposables.swap();
      HttpClient timed = client.doAfterRequest((request, connection) -> deadline.update(transport.timer().schedule(
          () -> {
            if (settled.compareAndSet(false, true)) {
              sink.error(OtaException.transientFailure(Detail.TIMEOUT, Failures.origin(uri) + " sent no answer within "
                  + Failures.human(transport.idleTimeout()) + " (its status and headers were not complete).", null));
              callRef.dispose();
            }
          }, transport.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)));
      Disposable call = timed.get().uri(uri).responseConnection((response, connection) -> {
        deadline.dispose();
        connection.removeHandler(NettyPipeline.ResponseTimeoutHandler);
        Object answer;
        try {
          answer = interpret(uri, response, connection);
        } catch (OtaException e) {
          connection.dispose();
          if (settled.compareAndSet(false, true)) {
            sink.error(e);
          }
          return Mono.empty();
        }
        if (answer instanceof HttpsDownload) {
          HttpsDownload download = (HttpsDownload) answer;
          if (settled.compareAndSet(false, true)) {
            sink.success(download);
          } else {
            download.discard();
          }
          return download.released();
        }
        connection.dispose();
        if (settled.compareAndSet(false, true)) {
          sink.success(answer);
        }
        return Mono.empty();
      }).subscribe(ignored -> { }, error -> {
        deadline.dispose();
        if (settled.compareAndSet(false, true)) {
          sink.error(transport.failure(error, uri));
        } else {
          log.debug("After the answer from {}: {}", Failures.origin(uri), error.toString());
        }
      });
      callRef.update(call);
      sink.onCancel(() -> {
        settled.set(true);
        deadline.dispose();
        call.dispose();
      });
    });
  }

  private Object interpret(URI uri, HttpClientResponse response, Connection connection) {
    int code = response.status().code();
    HttpHeaders headers = response.responseHeaders();
    if (Redirects.isRedirect(code)) {
      String location = headers.get(HttpHeaderNames.LOCATION);
      if (location == null || location.isBlank()) {
        throw OtaException.of(Detail.MALFORMED_RESPONSE, "The server answered " + code + " (a redirect) for " + uri
            + " without saying where to; ask its operator.");
      }
      return new Redirect(location);
    }
    if (code == 200) {
      String now = validator(headers);
      if (validator != null && now != null && !validator.equals(now)) {
        throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The file " + uri + " changed on the server during the"
            + " update (its validator is now " + now + "); run the update again.");
      }
      throw OtaException.of(Detail.RANGE_NOT_SUPPORTED, "the server answered a Range request for " + uri
          + " with the whole file (200)");
    }
    if (code != 206) {
      OtaException failure = Failures.status(code, response.status().reasonPhrase(), uri,
          headers.get(HttpHeaderNames.RETRY_AFTER), headers.get(HttpHeaderNames.DATE),
          java.time.Instant.ofEpochMilli(transport.timer().now(TimeUnit.MILLISECONDS)));
      if ((code == 401 || code == 403) && credentials != null && !onOrigin) {
        throw failure.withMessage(failure.getMessage() + " The credentials were not sent: they go only to "
            + Failures.origin(origin) + ", and this answer came from another origin after a redirect.");
      }
      throw failure;
    }
    String contentType = headers.get(HttpHeaderNames.CONTENT_TYPE);
    if (contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/")) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "The server answered a single-range request for " + uri
          + " with several parts; ask its operator.");
    }
    long[] range = contentRange(headers.get(HttpHeaderNames.CONTENT_RANGE), uri);
    long length = contentLength(headers, uri);
    if (range[0] != first || range[1] != last || (length >= 0 && length != last - first + 1)) {
      throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for bytes " + first + "-"
          + last + " of " + uri + " with " + headers.get(HttpHeaderNames.CONTENT_RANGE) + "; ask its operator.");
    }
    List<String> warnings = transport.trust().warnings(ImageFetch.peerChain(connection));
    return new HttpsDownload(connection, uri, first, range[2], validator(headers), warnings, transport);
  }

  private static @Nullable String validator(HttpHeaders headers) {
    String etag = headers.get(HttpHeaderNames.ETAG);
    if (etag != null && etag.strip().startsWith("\"")) {
      return etag.strip();
    }
    String modified = headers.get(HttpHeaderNames.LAST_MODIFIED);
    return modified == null || modified.isBlank() ? null : modified.strip();
  }

  private static long contentLength(HttpHeaders headers, URI uri) {
    String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw malformed(uri, "its Content-Length (" + value + ") is not a number");
    }
  }

  private static long[] contentRange(@Nullable String value, URI uri) {
    if (value == null) {
      throw malformed(uri, "it answered 206 without a Content-Range");
    }
    String v = value.strip();
    try {
      if (!v.startsWith("bytes ")) {
        throw new NumberFormatException("no bytes unit");
      }
      String spec = v.substring(6).strip();
      int dash = spec.indexOf('-');
      int slash = spec.indexOf('/');
      if (dash < 0 || slash < dash) {
        throw new NumberFormatException("no range");
      }
      long a = Long.parseLong(spec.substring(0, dash).strip());
      long b = Long.parseLong(spec.substring(dash + 1, slash).strip());
      String completeText = spec.substring(slash + 1).strip();
      long complete = "*".equals(completeText) ? -1 : Long.parseLong(completeText);
      if (a < 0 || b < a || (complete >= 0 && b >= complete)) {
        throw new NumberFormatException("inconsistent range");
      }
      return new long[] {a, b, complete};
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw malformed(uri, "its Content-Range (" + v + ") is malformed");
    }
  }

  private static OtaException malformed(URI uri, String what) {
    return OtaException.of(Detail.MALFORMED_RESPONSE, "The answer for " + uri + " is malformed: " + what
        + ". Try again later or ask the server's operator.");
  }

  static void checkHttps(UpdateRequest request) {
    String scheme = request.uri().getScheme();
    if (scheme == null || !"https".equalsIgnoreCase(scheme)) {
      throw OtaException.of(Reason.USAGE, "Only https:// URLs are fetched, not \"" + request.uri() + "\".");
    }
  }
}
