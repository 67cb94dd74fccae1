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
import io.otaflux.OtaException.Reason;
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

  /** A 416 to a ranged request: ask again for the whole image. */
  private record Restart() {
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
    // without a validator a changed image cannot be told apart: ask for all of it
    this.validator = from.validator();
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
        log.debug("{} cannot serve from byte {} (416); asking for the whole image", uri, from);
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
    HttpClient client = transport.http().headers(h -> {
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
              sink.error(OtaException.transientFailure(Reason.NETWORK, Failures.origin(uri) + " sent no answer within "
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

  private Object interpret(URI uri, HttpClientResponse response, Connection connection, long from) {
    int code = response.status().code();
    HttpHeaders headers = response.responseHeaders();
    if (Redirects.isRedirect(code)) {
      String location = headers.get(HttpHeaderNames.LOCATION);
      if (location == null || location.isBlank()) {
        throw OtaException.of(Reason.SERVER, "The server answered " + code + " (a redirect) for " + uri
            + " without saying where to; ask its operator.");
      }
      return new Redirect(location);
    }
    if (code == 416 && from > 0 && !restarted) {
      return new Restart();
    }
    long length = contentLength(headers, uri);
    long start;
    long total;
    if (code == 200) {
      start = 0;
      total = length;
    } else if (code == 206 && from > 0) {
      long[] range = contentRange(headers.get(HttpHeaderNames.CONTENT_RANGE), uri);
      start = range[0];
      total = range[2];
      if (start != from || (length >= 0 && length != range[1] - range[0] + 1)) {
        throw malformed(uri, "its Content-Range (" + headers.get(HttpHeaderNames.CONTENT_RANGE) + ") does not answer"
            + " the request for bytes " + from + "- with a body of " + length + " bytes");
      }
    } else {
      OtaException failure = Failures.status(code, response.status().reasonPhrase(), uri,
          headers.get(HttpHeaderNames.RETRY_AFTER));
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

  /** A strong ETag, else Last-Modified: what {@code If-Range} may carry. */
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
      long length = Long.parseLong(value.strip());
      if (length < 0) {
        throw malformed(uri, "its Content-Length is negative");
      }
      return length;
    } catch (NumberFormatException e) {
      throw malformed(uri, "its Content-Length (" + value + ") is not a number");
    }
  }

  /** {@code bytes first-last/complete} as {first, last, complete or -1 for "*"}. */
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
      long first = Long.parseLong(spec.substring(0, dash).strip());
      long last = Long.parseLong(spec.substring(dash + 1, slash).strip());
      String completeText = spec.substring(slash + 1).strip();
      long complete = "*".equals(completeText) ? -1 : Long.parseLong(completeText);
      if (first < 0 || last < first || (complete >= 0 && last >= complete)) {
        throw new NumberFormatException("inconsistent range");
      }
      return new long[] {first, last, complete};
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw malformed(uri, "its Content-Range (" + v + ") is malformed");
    }
  }

  private static OtaException malformed(URI uri, String what) {
    return OtaException.of(Reason.SERVER, "The answer for " + uri + " is malformed: " + what
        + ". Try again later or ask the server's operator.");
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
