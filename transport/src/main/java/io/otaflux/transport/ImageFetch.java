package io.otaflux.transport;

import java.net.URI;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.SSLPeerUnverifiedException;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.ssl.SslHandler;
import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;

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
 * One {@link HttpsFirmwareSource#open}: the hops from the request's URL to an answer with the
 * image, one at a time. The status is read before any of the body.
 */
final class ImageFetch {

  private static final Logger log = LoggerFactory.getLogger(HttpsFirmwareSource.class);

  /** A redirect to follow. */
  private record Redirect(String location) {
  }

  /** A 416 to a ranged request, or a 206 of another image: ask again for the whole image. */
  private record Restart(String why) {
  }

  private final HttpsFirmwareSource.Transport transport;
  private final URI origin;
  private final @Nullable Credentials credentials;
  private final Redirects redirects;
  private long offset;
  private @Nullable String validator;
  private boolean onOrigin = true;
  private boolean restarted;

  ImageFetch(HttpsFirmwareSource.Transport transport, UpdateRequest request, ResumeFrom from) {
    this.transport = transport;
    this.origin = request.uri();
    this.credentials = request.credentials().orElse(null);
    this.redirects = new Redirects(origin, transport.maxRedirects());
    // without a validator a changed image cannot be told apart: ask for all of it; a weak ETag
    // (a journal from an older version) must never go into If-Range (RFC 9110 13.1.5)
    String v = from.validator();
    this.validator = v == null || v.isBlank() || v.startsWith("W/") ? null : v;
    this.offset = validator == null ? 0 : from.offset();
  }

  Mono<ImageDownload> open() {
    return hop(origin);
  }

  private Mono<ImageDownload> hop(URI uri) {
    if (!Redirects.sameOrigin(uri, origin)) {
      onOrigin = false;
    }
    boolean authorize = credentials != null && onOrigin;
    long from = offset;
    String ifRange = validator;
    return exchange(uri, authorize, from, ifRange).flatMap(answer -> {
      if (answer instanceof Redirect) {
        URI next = redirects.next(uri, ((Redirect) answer).location());
        log.debug("{} redirects to {}", uri, next);
        return hop(next);
      }
      if (answer instanceof Restart) {
        log.debug("{} cannot serve from byte {} ({}); asking for the whole image", uri, from, ((Restart) answer).why());
        offset = 0;
        validator = null;
        restarted = true;
        return hop(uri);
      }
      return Mono.just((ImageDownload) answer);
    });
  }

  private Mono<Object> exchange(URI uri, boolean authorize, long from, @Nullable String ifRange) {
    Credentials auth = authorize ? credentials : null;
    TlsVersionWatch tls = new TlsVersionWatch();
    HttpClient client = tls.on(transport.http()).headers(h -> {
      if (auth != null) {
        h.set(HttpHeaderNames.AUTHORIZATION, auth.authorization());
      }
      if (from > 0) {
        h.set(HttpHeaderNames.RANGE, "bytes=" + from + "-");
        if (ifRange != null) {
          h.set(HttpHeaderNames.IF_RANGE, ifRange);
        }
      }
    });
    return Mono.create(sink -> {
      AtomicBoolean settled = new AtomicBoolean();
      Disposable.Swap deadline = Disposables.swap();
      Disposable.Swap callRef = Disposables.swap();
      // the idle timeout restarts with every byte, so a server dripping its headers (slowloris) would
      // hold the update forever: the status and headers must be complete within the idle timeout
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
        // the answer has come: from now on the body's own idle watch counts silence
        connection.removeHandler(NettyPipeline.ResponseTimeoutHandler);
        Object answer;
        try {
          answer = interpret(uri, response, connection, from);
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
      })
          // the inner subscription carries the subscriber's Context, so HttpClient hooks (doOnRequest,
          // metrics, tracing) see what the caller put there
          .contextWrite(sink.contextView())
          .subscribe(ignored -> { }, error -> {
        deadline.dispose();
        if (settled.compareAndSet(false, true)) {
          sink.error(transport.failure(error, uri, tls));
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

  private Object interpret(URI uri, HttpClientResponse response, Connection connection, long from) {
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
    if (code == 416 && from > 0 && !restarted) {
      return new Restart("416");
    }
    long length = contentLength(headers, uri);
    long start;
    long total;
    if (code == 200) {
      start = 0;
      total = length;
    } else if (code == 206 && from > 0) {
      String rangeHeader = headers.get(HttpHeaderNames.CONTENT_RANGE);
      ContentRange range = ContentRange.parse(rangeHeader, uri);
      start = range.first();
      total = range.complete();
      if (start != from || (length >= 0 && length != range.length())) {
        throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The answer for " + uri + " does not continue the"
            + " image: its Content-Range (" + range.first() + "-" + range.last() + "/"
            + (range.complete() < 0 ? "*" : range.complete()) + ") does not answer the request for bytes " + from
            + "- with a body of " + length + " bytes. Nothing of it was written; try again later or ask the server's"
            + " operator.");
      }
      String ifRange = validator;
      if (ifRange == null || !continues(ifRange, headers)) {
        // RFC 9110 13.1.5: a 206 to If-Range continues the representation that validator names; one
        // without it, or with another, belongs to another image and is never appended
        if (restarted) {
          throw inconsistent(uri, from);
        }
        return new Restart("206 with validator " + validatorOf(headers) + " for If-Range " + ifRange);
      }
    } else if (code == 206) {
      throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered 206 (a part of the image) for " + uri
          + " when all of it was asked for; its answers are inconsistent. Nothing was written; try again later or ask"
          + " the server's operator.");
    } else {
      OtaException failure = Failures.status(code, response.status().reasonPhrase(), uri,
          headers.get(HttpHeaderNames.RETRY_AFTER), headers.get(HttpHeaderNames.DATE),
          java.time.Instant.ofEpochMilli(transport.timer().now(TimeUnit.MILLISECONDS)));
      if ((code == 401 || code == 403) && credentials != null && !onOrigin) {
        throw failure.withMessage(failure.getMessage() + " The credentials were not sent: they go only to "
            + Failures.origin(origin) + ", and this answer came from another origin after a redirect.");
      }
      throw failure;
    }
    List<String> warnings = transport.trust().warnings(peerChain(connection));
    log.debug("Opened {} from byte {} (status {}, image size {})", uri, start, code, total < 0 ? "unknown" : total);
    return new HttpsDownload(connection, uri, start, total, validator(headers), warnings, transport);
  }

  /**
   * What a later {@code If-Range} may carry for this answer, per RFC 9110 13.1.5 and 8.8.2.2: a
   * strong ETag; never a weak one (and with a weak ETag no date either, since the answer has an
   * entity tag); without an ETag, the Last-Modified date only when it is strong, that is at least
   * one second before the answer's Date. Null: nothing safe to resume with, so a retry starts over.
   */
  static @Nullable String validator(HttpHeaders headers) {
    String etag = headers.get(HttpHeaderNames.ETAG);
    if (etag != null && !etag.isBlank()) {
      String e = etag.strip();
      return e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"") ? e : null;
    }
    String modified = headers.get(HttpHeaderNames.LAST_MODIFIED);
    String date = headers.get(HttpHeaderNames.DATE);
    if (modified == null || date == null) {
      return null;
    }
    java.time.Instant changed = RetryAfter.httpDate(modified.strip());
    java.time.Instant sent = RetryAfter.httpDate(date.strip());
    if (changed == null || sent == null || java.time.Duration.between(changed, sent).getSeconds() < 1) {
      return null;
    }
    return modified.strip();
  }

  /** Whether a 206 carries the validator that was sent in If-Range (strong comparison). */
  private static boolean continues(String ifRange, HttpHeaders headers) {
    if (ifRange.startsWith("\"")) {
      String etag = headers.get(HttpHeaderNames.ETAG);
      return etag != null && etag.strip().equals(ifRange);
    }
    String modified = headers.get(HttpHeaderNames.LAST_MODIFIED);
    if (modified == null) {
      return false;
    }
    java.time.Instant now = RetryAfter.httpDate(modified.strip());
    java.time.Instant then = RetryAfter.httpDate(ifRange);
    return now != null && now.equals(then);
  }

  private static String validatorOf(HttpHeaders headers) {
    String etag = headers.get(HttpHeaderNames.ETAG);
    return etag != null ? etag.strip() : String.valueOf(headers.get(HttpHeaderNames.LAST_MODIFIED));
  }

  private static OtaException inconsistent(URI uri, long from) {
    return OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for bytes " + from
        + "- of " + uri + " with a part of another version of the image, and again when asked for the whole image;"
        + " its answers are inconsistent. Nothing of them was written; try again later or ask the server's operator.");
  }

  private static long contentLength(HttpHeaders headers, URI uri) {
    String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      long length = Long.parseLong(value.strip());
      if (length < 0) {
        throw malformed(uri, "its Content-Length is negative");
      }
      return length;
    } catch (NumberFormatException e) {
      throw malformed(uri, "its Content-Length (" + value + ") is not a number");
    }
  }

  private static OtaException malformed(URI uri, String what) {
    return ContentRange.malformed(uri, what);
  }

  static X509Certificate[] peerChain(Connection connection) {
    SslHandler ssl = connection.channel().pipeline().get(SslHandler.class);
    if (ssl == null) {
      return new X509Certificate[0];
    }
    try {
      Certificate[] certificates = ssl.engine().getSession().getPeerCertificates();
      X509Certificate[] chain = new X509Certificate[certificates.length];
      for (int i = 0; i < certificates.length; i++) {
        chain[i] = (X509Certificate) certificates[i];
      }
      return chain;
    } catch (SSLPeerUnverifiedException | ClassCastException e) {
      return new X509Certificate[0];
    }
  }
}
