package io.otaflux.transport;

import java.net.URI;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.SSLPeerUnverifiedException;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.ssl.SslHandler;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClientResponse;

/**
 * One {@link HttpsFirmwareSource#open}: the hops from the request's URL to an answer with the
 * image, one at a time. The status is read before any of the body.
 */
final class ImageFetch {

  private static final Logger log = LoggerFactory.getLogger(HttpsFirmwareSource.class);

  /** A 416 to a ranged request, or a 206 of another image: ask {@code uri} again for the whole image. */
  private record Restart(URI uri, String why) {
  }

  private final HttpsFirmwareSource.Transport transport;
  private final Exchange exchange;
  private long offset;
  private @Nullable String validator;
  private boolean restarted;

  ImageFetch(HttpsFirmwareSource.Transport transport, UpdateRequest request, ResumeFrom from) {
    this.transport = transport;
    this.exchange = Exchange.of(transport, request);
    // without a validator a changed image cannot be told apart: ask for all of it; a weak ETag
    // (a journal from an older version) must never go into If-Range (RFC 9110 13.1.5)
    String v = from.validator();
    this.validator = v == null || v.isBlank() || v.startsWith("W/") ? null : v;
    this.offset = validator == null ? 0 : from.offset();
  }

  Mono<ImageDownload> open() {
    return attempt(exchange.origin());
  }

  private Mono<ImageDownload> attempt(URI start) {
    long from = offset;
    String ifRange = validator;
    Flux<Object> answers = exchange.get(transport.http(), start, h -> {
      if (from > 0) {
        h.set(HttpHeaderNames.RANGE, "bytes=" + from + "-");
        if (ifRange != null) {
          h.set(HttpHeaderNames.IF_RANGE, ifRange);
        }
      }
    }, (uri, response, connection) -> {
      Object answer = interpret(uri, response, connection, from);
      if (answer instanceof HttpsDownload) {
        return ((HttpsDownload) answer).held();
      }
      connection.dispose();
      return Mono.just(answer);
    });
    return Exchange.first(answers).flatMap(answer -> {
      if (answer instanceof Restart) {
        Restart restart = (Restart) answer;
        log.debug("{} cannot serve from byte {} ({}); asking for the whole image", restart.uri(), from, restart.why());
        offset = 0;
        validator = null;
        restarted = true;
        return attempt(restart.uri());
      }
      return Mono.just((ImageDownload) answer);
    });
  }

  private Object interpret(URI uri, HttpClientResponse response, Connection connection, long from) {
    int code = response.status().code();
    HttpHeaders headers = response.responseHeaders();
    if (code == 416 && from > 0 && !restarted) {
      return new Restart(uri, "416");
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
        return new Restart(uri, "206 with validator " + validatorOf(headers) + " for If-Range " + ifRange);
      }
    } else if (code == 206) {
      throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered 206 (a part of the image) for " + uri
          + " when all of it was asked for; its answers are inconsistent. Nothing was written; try again later or ask"
          + " the server's operator.");
    } else {
      throw exchange.status(uri, response);
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
  static boolean continues(String ifRange, HttpHeaders headers) {
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

  static String validatorOf(HttpHeaders headers) {
    String etag = headers.get(HttpHeaderNames.ETAG);
    return etag != null ? etag.strip() : String.valueOf(headers.get(HttpHeaderNames.LAST_MODIFIED));
  }

  private static OtaException inconsistent(URI uri, long from) {
    return OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for bytes " + from
        + "- of " + uri + " with a part of another version of the image, and again when asked for the whole image;"
        + " its answers are inconsistent. Nothing of them was written; try again later or ask the server's operator.");
  }

  static long contentLength(HttpHeaders headers, URI uri) {
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
