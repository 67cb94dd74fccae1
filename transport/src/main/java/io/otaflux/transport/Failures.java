package io.otaflux.transport;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
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
    return map(error, uri, connectTimeout, handshakeTimeout, idleTimeout, null);
  }

  /**
   * What a person and a program get for a failed connection or exchange.
   *
   * <p><b>Decided by type, never by message text</b> (messages change between JDK and Netty
   * versions, and with the locale): our {@link TrustFailure} inside the handshake exception is
   * TRUST with its own sentence; Netty's {@code SslHandshakeTimeoutException},
   * {@code ConnectTimeoutException} and {@code ReadTimeoutException} are {@link Detail#TIMEOUT};
   * {@code UnknownHostException} is {@link Detail#UNKNOWN_HOST} (transient when the resolver timed
   * out); {@code ConnectException} is {@link Detail#CONNECTION_REFUSED}.
   *
   * <p><b>TLS versions:</b> the JDK reports a server that speaks no TLS 1.2 or 1.3 as a bare
   * {@code SSLHandshakeException}, so the {@link TlsVersionWatch} reads the server's first TLS record
   * itself: a {@code protocol_version} alert, or a ServerHello below TLS 1.2, is TRUST /
   * {@link Detail#TLS_VERSION} (exit 3, not transient: trying again cannot help; the sentence names
   * TLS 1.2). A server that hangs up during the handshake without saying why (the peer closed:
   * {@code ClosedChannelException}, {@code EOFException} or a reset inside the handshake exception,
   * or nothing at all received from it) stays NETWORK / {@link Detail#CONNECTION_LOST}, transient,
   * and the sentence names an old TLS version as one possible cause. Any other handshake failure
   * is TRUST / {@link Detail#TRUST_FAILED}.
   *
   * @param error what Netty or the JDK signalled
   * @param uri the URL being fetched
   * @param connectTimeout the connect timeout in force
   * @param handshakeTimeout the handshake timeout in force
   * @param idleTimeout the idle timeout in force
   * @param tls what the server's first TLS record said, when watched
   * @return the failure
   */
  static OtaException map(Throwable error, URI uri, Duration connectTimeout, Duration handshakeTimeout,
      Duration idleTimeout, @Nullable TlsVersionWatch tls) {
    if (error instanceof OtaException) {
      return (OtaException) error;
    }
    String where = origin(uri);
    TrustFailure trust = find(error, TrustFailure.class);
    if (trust != null) {
      return OtaException.of(trust.detail(), String.valueOf(trust.getMessage()), error);
    }
    if (find(error, SslHandshakeTimeoutException.class) != null) {
      return OtaException.transientFailure(Detail.TIMEOUT, "The TLS handshake with " + where + " did not finish within "
          + human(handshakeTimeout) + " (the server accepted the connection and then said nothing); check that it serves"
          + " HTTPS on that port.", error);
    }
    if (find(error, ConnectTimeoutException.class) != null) {
      return OtaException.transientFailure(Detail.TIMEOUT, "Connecting to " + where + " timed out after "
          + human(connectTimeout) + ".", error);
    }
    if (find(error, ReadTimeoutException.class) != null) {
      return OtaException.transientFailure(Detail.TIMEOUT, where + " sent no answer within " + human(idleTimeout)
          + ".", error);
    }
    UnknownHostException unknown = find(error, UnknownHostException.class);
    if (unknown != null && find(error, io.netty.resolver.dns.DnsNameResolverTimeoutException.class) != null) {
      return OtaException.transientFailure(Detail.UNKNOWN_HOST, "The host name \"" + uri.getHost() + "\" could not be"
          + " resolved in time; check the network's DNS.", error);
    }
    if (unknown != null) {
      // The JDK's resolver gives one type for "no such name" and "DNS not reachable now" (EAI_AGAIN):
      // on a device that is often offline the second is the likely one, so it is retried with backoff
      // rather than told apart by the resolver's wording.
      return OtaException.transientFailure(Detail.UNKNOWN_HOST, "The host name \"" + uri.getHost() + "\" could not be"
          + " resolved; check the URL and the network's DNS.", error);
    }
    SSLException tlsFailure = find(error, SSLException.class);
    if (tlsFailure != null && tls != null && tls.refusedVersion()) {
      return OtaException.of(Detail.TLS_VERSION, where + " offers no TLS version this device accepts (it answered with "
          + tls.what() + "); TLS 1.2 or newer is required. Ask the server's operator to enable TLS 1.2 or 1.3.", error);
    }
    SSLHandshakeException handshake = find(error, SSLHandshakeException.class);
    if (handshake != null && closedByPeer(handshake, tls)) {
      return OtaException.transientFailure(Detail.CONNECTION_LOST, "The connection to " + where + " was closed during"
          + " the TLS handshake: a network failure, or a server that accepts no TLS 1.2 or newer (an old TLS version)."
          + " Check the network, or ask the server's operator whether it offers TLS 1.2 or 1.3.", error);
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
      return OtaException.transientFailure(Detail.CONNECTION_REFUSED, "Could not connect to " + where + " ("
          + detail(refused) + "); check that the server is up and reachable.", error);
    }
    if (find(error, reactor.netty.http.client.PrematureCloseException.class) != null) {
      return OtaException.transientFailure(Detail.CONNECTION_LOST, "The connection to " + where + " was lost.", error);
    }
    IOException io = find(error, IOException.class);
    if (io != null || tlsFailure != null) {
      return OtaException.transientFailure(Detail.CONNECTION_LOST, "The connection to " + where + " failed ("
          + detail(io != null ? io : error) + ").", error);
    }
    Throwable decoding = httpDecoding(error);
    if (decoding != null) {
      return OtaException.of(Detail.MALFORMED_RESPONSE, "The answer from " + where + " is not valid HTTP ("
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

  /**
   * A failure on a connection through the proxy {@code proxy} ({@code host:port}) that is the
   * proxy's, or null when it is the origin's (then {@link #map} decides). Decided by type: Netty's
   * {@code ProxyConnectException} (the proxy answered {@code CONNECT} with anything but 2xx, such
   * as a 403 for a port it does not tunnel or a 407, or closed or timed out before answering), and
   * a refused, timed-out or unresolvable connection to the proxy itself, are
   * {@link Detail#PROXY_FAILED}; so is a tunnel closed during the TLS handshake. A failure of trust
   * inside the tunnel stays the origin's (TRUST).
   */
  static @Nullable OtaException viaProxy(Throwable error, URI uri, String proxy, Duration connectTimeout,
      @Nullable TlsVersionWatch tls) {
    if (error instanceof OtaException || find(error, TrustFailure.class) != null) {
      return null;
    }
    String where = origin(uri);
    io.netty.handler.proxy.HttpProxyHandler.HttpProxyConnectException refused =
        find(error, io.netty.handler.proxy.HttpProxyHandler.HttpProxyConnectException.class);
    if (refused != null) {
      return OtaException.of(Detail.PROXY_FAILED, "The proxy " + proxy + " refused the tunnel to " + where + " ("
          + proxyAnswer(refused) + "); check the proxy setting (--proxy, https_proxy) and its credentials, and that"
          + " the proxy allows CONNECT to port " + port(uri) + ".", error);
    }
    io.netty.handler.proxy.ProxyConnectException failed = find(error, io.netty.handler.proxy.ProxyConnectException.class);
    if (failed != null) {
      return OtaException.transientFailure(Detail.PROXY_FAILED, "The proxy " + proxy + " did not open the tunnel to "
          + where + " (" + proxyAnswer(failed) + "); check that the proxy is working.", error);
    }
    if (find(error, ConnectTimeoutException.class) != null) {
      return OtaException.transientFailure(Detail.PROXY_FAILED, "Connecting to the proxy " + proxy + " timed out after "
          + human(connectTimeout) + "; check that it is up and the proxy setting (--proxy, https_proxy).", error);
    }
    if (find(error, ConnectException.class) != null) {
      return OtaException.transientFailure(Detail.PROXY_FAILED, "Could not connect to the proxy " + proxy + " ("
          + detail(find(error, ConnectException.class)) + "); check that it is up and the proxy setting (--proxy,"
          + " https_proxy).", error);
    }
    if (find(error, UnknownHostException.class) != null) {
      return OtaException.of(Detail.PROXY_FAILED, "The proxy's host name in \"" + proxy + "\" could not be resolved;"
          + " check the proxy setting (--proxy, https_proxy) and the network's DNS.", error);
    }
    SSLHandshakeException handshake = find(error, SSLHandshakeException.class);
    if (handshake != null && (tls == null || !tls.refusedVersion()) && closedByPeer(handshake, tls)) {
      return OtaException.transientFailure(Detail.PROXY_FAILED, "The tunnel through the proxy " + proxy + " to " + where
          + " was closed during the TLS handshake: the proxy dropped it, or the server accepts no TLS 1.2 or newer."
          + " Check the proxy, or ask the server's operator whether it offers TLS 1.2 or 1.3.", error);
    }
    return null;
  }

  /** What the proxy said, for display only: Netty's message names the proxy's status line. */
  private static String proxyAnswer(Throwable e) {
    String m = String.valueOf(e.getMessage());
    // "http, none, /127.0.0.1:8888 => host:443, status: 403 Forbidden": keep what follows the arrow
    // display only: the sentence shows the proxy's status line, nothing is decided from it
    int arrow = m.indexOf("=>");
    // display only
    int comma = arrow < 0 ? -1 : m.indexOf(", ", arrow);
    return comma > 0 ? m.substring(comma + 2) : m;
  }

  /**
   * An HTTP status that is not an image: {@link Detail#HTTP_STATUS}, 4xx non-transient, 5xx, 408
   * and 429 transient, with the wait {@code Retry-After} asks for.
   */
  static OtaException status(int code, String reasonPhrase, URI uri, @Nullable String retryAfter,
      @Nullable String date, Instant now) {
    String status = "HTTP " + code + (reasonPhrase.isBlank() ? "" : " " + reasonPhrase);
    String shown = uri.toString();
    if (code >= 500 || code == 429 || code == 408) {
      OtaException e = OtaException.httpStatus(code, "The server answered " + status + " for " + shown
          + "; it may be busy or down. Try again later.", true);
      Duration delay = RetryAfter.parse(retryAfter, date, now);
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
    return OtaException.httpStatus(code, "The server answered " + status + " for " + shown + "." + hint, false);
  }

  /**
   * The peer went away mid-handshake without a verdict on trust: the connection closed or was reset
   * inside the handshake, or the server sent nothing at all.
   */
  private static boolean closedByPeer(SSLHandshakeException handshake, @Nullable TlsVersionWatch tls) {
    return find(handshake, java.io.EOFException.class) != null
        || find(handshake, java.nio.channels.ClosedChannelException.class) != null
        || find(handshake, java.net.SocketException.class) != null
        || (tls != null && !tls.serverSpoke());
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
    // a ConnectException is what Java raises for a refused connection (its text varies by transport:
    // "finishConnect(..) failed with error(-111): Connection refused: host/ip:port"); say it plainly
    return e instanceof ConnectException ? "connection refused" : m;
  }
}
