package io.otaflux.transport;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

import org.jspecify.annotations.Nullable;

/** Turns what Netty and the JDK throw, and HTTP statuses, into {@link OtaException}s a person can act on. */
final class Failures {

  private Failures() {
  }

  static String origin(URI uri) {
    return uri.getHost() + ":" + port(uri);
  }

  static int port(URI uri) {
    return uri.getPort() >= 0 ? uri.getPort() : "http".equalsIgnoreCase(uri.getScheme()) ? 80 : 443;
  }

  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  static OtaException map(Throwable error, URI uri, Duration connectTimeout, Duration handshakeTimeout,
      Duration idleTimeout) {
    if (error instanceof OtaException) {
      return (OtaException) error;
    }
    String where = origin(uri);
    TrustFailure trust = find(error, TrustFailure.class);
    if (trust != null) {
      return OtaException.of(Reason.TRUST, trust.getMessage(), error);
    }
    if (find(error, SslHandshakeTimeoutException.class) != null) {
      return OtaException.transientFailure(Reason.NETWORK, "The TLS handshake with " + where + " did not finish within "
          + human(handshakeTimeout) + ".", error);
    }
    if (find(error, ConnectTimeoutException.class) != null) {
      return OtaException.transientFailure(Reason.NETWORK, "Connecting to " + where + " timed out after "
          + human(connectTimeout) + ".", error);
    }
    if (find(error, ReadTimeoutException.class) != null) {
      return OtaException.transientFailure(Reason.NETWORK, where + " sent no answer within " + human(idleTimeout)
          + ".", error);
    }
    UnknownHostException unknown = find(error, UnknownHostException.class);
    if (unknown != null && (find(error, io.netty.resolver.dns.DnsNameResolverTimeoutException.class) != null
        || String.valueOf(unknown.getMessage()).contains("Temporary failure"))) {
      return OtaException.transientFailure(Reason.NETWORK, "The host name \"" + uri.getHost() + "\" could not be"
          + " resolved in time; check the network's DNS.", error);
    }
    if (unknown != null) {
      return OtaException.of(Reason.NETWORK, "The host name \"" + uri.getHost() + "\" could not be resolved; check the"
          + " URL and the network's DNS.", error);
    }
    SSLHandshakeException handshake = find(error, SSLHandshakeException.class);
    if (handshake != null && closedByPeer(handshake)) {
      return OtaException.transientFailure(Reason.NETWORK, "The connection to " + where + " was closed during the TLS"
          + " handshake (a network failure, or a server that accepts no TLS 1.2 or newer).", error);
    }
    if (handshake != null) {
      return OtaException.of(Reason.TRUST, "The TLS handshake with " + where + " failed (" + handshake.getMessage()
          + "); the server offers no TLS 1.2 or newer connection this device accepts.", error);
    }
    if (find(error, io.netty.handler.ssl.NotSslRecordException.class) != null) {
      // a plain-text answer to the ClientHello: no TLS here, and trying again will not change that
      return OtaException.of(Reason.TRUST, where + " does not speak TLS: it answered the TLS handshake in plain"
          + " text (an http:// server, or the wrong port). Check the URL's port, and that the server serves HTTPS"
          + " there.", error);
    }
    ConnectException refused = find(error, ConnectException.class);
    if (refused != null) {
      return OtaException.transientFailure(Reason.NETWORK, "Could not connect to " + where + " ("
          + detail(refused) + "); check that the server is up and reachable.", error);
    }
    if (find(error, reactor.netty.http.client.PrematureCloseException.class) != null) {
      return OtaException.transientFailure(Reason.NETWORK, "The connection to " + where + " was lost.", error);
    }
    IOException io = find(error, IOException.class);
    if (io != null || find(error, SSLException.class) != null) {
      return OtaException.transientFailure(Reason.NETWORK, "The connection to " + where + " failed ("
          + detail(io != null ? io : error) + ").", error);
    }
    Throwable decoding = httpDecoding(error);
    if (decoding != null) {
      return OtaException.of(Reason.SERVER, "The answer from " + where + " is not valid HTTP ("
          + detail(decoding).replaceAll("[.\\s]+$", "") + "); the server, or something between it and this device,"
          + " is misbehaving. Check the URL, or ask the server's operator.", error);
    }
    return OtaException.of(Reason.NETWORK, "The download from " + where + " failed (" + detail(error) + ").", error);
  }

  /** Netty's HTTP decoder refusing the answer (too long a header, no HTTP status line), or null. */
  private static @Nullable Throwable httpDecoding(Throwable error) {
    int depth = 0;
    for (Throwable c = error; c != null && depth < 20; c = c.getCause(), depth++) {
      if (c instanceof io.netty.handler.codec.DecoderException) {
        return c;
      }
      if (c instanceof IllegalArgumentException) {
        for (StackTraceElement frame : c.getStackTrace()) {
          if (frame.getClassName().startsWith("io.netty.handler.codec.http.")) {
            return c;
          }
        }
      }
    }
    return null;
  }

  /** An HTTP status that is not an image: 4xx non-transient, 5xx, 408 and 429 transient. */
  static OtaException status(int code, String reasonPhrase, URI uri, @Nullable String retryAfter) {
    String status = "HTTP " + code + (reasonPhrase.isBlank() ? "" : " " + reasonPhrase);
    String shown = uri.toString();
    if (code >= 500 || code == 429 || code == 408) {
      OtaException e = OtaException.transientFailure(Reason.SERVER, "The server answered " + status + " for "
          + shown + "; it may be busy or down. Try again later.", null);
      Duration delay = retryAfter(retryAfter);
      return delay == null ? e : e.withRetryAfter(delay);
    }
    String hint;
    if (code == 401 || code == 403) {
      hint = " Check the credentials (--user or --bearer) and that they are allowed to read the image.";
    } else if (code == 404 || code == 410) {
      hint = " Check the URL.";
    } else if (code >= 400) {
      hint = " Check the URL and the request.";
    } else {
      hint = " That is not an image; check the URL.";
    }
    return OtaException.of(Reason.SERVER, "The server answered " + status + " for " + shown + "." + hint);
  }

  static @Nullable Duration retryAfter(@Nullable String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.strip();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? null : Duration.ofSeconds(seconds);
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.ROOT));
        Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }

  /** The JDK's and Netty's ways of saying the peer went away mid-handshake (not a verdict on trust). */
  private static boolean closedByPeer(SSLHandshakeException handshake) {
    String m = String.valueOf(handshake.getMessage());
    return find(handshake, java.io.EOFException.class) != null || m.contains("terminated the handshake")
        || m.contains("Connection closed while");
  }

  static <T extends Throwable> @Nullable T find(Throwable error, Class<T> type) {
    int depth = 0;
    for (Throwable c = error; c != null && depth < 20; c = c.getCause(), depth++) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
      for (Throwable s : c.getSuppressed()) {
        if (type.isInstance(s)) {
          return type.cast(s);
        }
      }
    }
    return null;
  }

  private static String detail(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return e.getClass().getSimpleName();
    }
    // Netty adds the remote address after a colon; keep the plain cause
    int colon = m.indexOf(": ");
    return colon > 0 && m.substring(0, colon).toLowerCase(Locale.ROOT).contains("connection refused")
        ? "connection refused" : m;
  }
}
