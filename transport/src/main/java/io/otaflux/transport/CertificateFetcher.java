package io.otaflux.transport;

import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.transport.FetchedCertificate.AnchorSource;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;

/**
 * Finds the trust anchor to give a device for a firmware URL: what {@code ota get-cert} runs, and
 * the counterpart of the original {@code get_cert} script.
 *
 * <ol>
 *   <li>Follows the URL's redirects (https only, at most 10) to the effective URL.</li>
 *   <li>Reads the chain the effective host presents <b>without validating it</b> (trust on first
 *   use: compare the reported pin with one obtained another way before relying on it). No
 *   credentials are sent over such a connection.</li>
 *   <li>Chooses the anchor: the self-signed root the presented chain leads to by signatures, if the
 *   server sent it (a stray self-signed certificate that issued nothing is ignored); else the issuer of the
 *   topmost presented certificate, looked up in the {@link #trustStore given PEM bundle} and the
 *   JDK's trust store; else the topmost presented certificate, with a warning that it is not a
 *   root and will change when the server's intermediate does.</li>
 * </ol>
 *
 * <p>Immutable and copy-on-write. Save the result with
 * {@link FetchedCertificate#writeTo(java.nio.file.Path, CertificateFormat)}.
 */
public final class CertificateFetcher {

  private static final Logger log = LoggerFactory.getLogger(CertificateFetcher.class);
  private static final Duration EXPIRY_WARNING = Duration.ofDays(90);

  private final @Nullable TrustAnchors trustStore;
  private final Duration timeout;
  private final int maxRedirects;
  private final Clock clock;
  private final @Nullable ProxyRoute proxy;

  private CertificateFetcher(@Nullable TrustAnchors trustStore, Duration timeout, int maxRedirects, Clock clock,
      @Nullable ProxyRoute proxy) {
    this.proxy = proxy;
    this.trustStore = trustStore;
    this.timeout = timeout;
    this.maxRedirects = maxRedirects;
    this.clock = clock;
  }

  /**
   * A fetcher looking roots up in the JDK's trust store, with 30 s timeouts and at most 10
   * redirects.
   *
   * @return the fetcher
   */
  public static CertificateFetcher create() {
    return new CertificateFetcher(null, Duration.ofSeconds(30), 10, Clock.systemUTC(), null);
  }

  /**
   * This fetcher, looking the root up in {@code bundle} first ({@code --trust-store}).
   *
   * @param bundle CA certificates, for example a PEM bundle
   * @return a new fetcher
   */
  public CertificateFetcher trustStore(TrustAnchors bundle) {
    Objects.requireNonNull(bundle, "bundle");
    return new CertificateFetcher(bundle, timeout, maxRedirects, clock, proxy);
  }

  /**
   * This fetcher, giving up a connect, handshake or answer after {@code timeout}.
   *
   * @param timeout positive
   * @return a new fetcher
   */
  public CertificateFetcher timeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isZero() || timeout.isNegative()) {
      throw OtaException.of(Reason.USAGE, "The timeout must be positive, not " + timeout + ".");
    }
    return new CertificateFetcher(trustStore, timeout, maxRedirects, clock, proxy);
  }

  /**
   * This fetcher, following at most {@code hops} redirects.
   *
   * @param hops from 0 to 50
   * @return a new fetcher
   */
  public CertificateFetcher maxRedirects(int hops) {
    if (hops < 0 || hops > 50) {
      throw OtaException.of(Reason.USAGE, "Allow from 0 to 50 redirects, not " + hops + ".");
    }
    return new CertificateFetcher(trustStore, timeout, hops, clock, proxy);
  }

  /**
   * This fetcher, reading the time (fetch date, expiry warnings) from {@code clock}.
   *
   * @param clock the clock
   * @return a new fetcher
   */
  public CertificateFetcher clock(Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return new CertificateFetcher(trustStore, timeout, maxRedirects, clock, proxy);
  }

  /**
   * This fetcher, connecting through an HTTP proxy as {@link HttpsFirmwareSource#proxy(String, String)} does.
   *
   * @param proxy the proxy's URL, {@code http://[user:pass@]host[:port]}
   * @param noProxy the hosts that go around it (curl's {@code no_proxy} syntax), or null
   * @return a new fetcher
   */
  public CertificateFetcher proxy(String proxy, @Nullable String noProxy) {
    Objects.requireNonNull(proxy, "proxy");
    return new CertificateFetcher(trustStore, timeout, maxRedirects, clock, ProxyRoute.parse(proxy, noProxy));
  }

  /**
   * This fetcher, with the proxy the environment names, as {@link HttpsFirmwareSource#proxyFromEnvironment()}.
   *
   * @return a new fetcher
   */
  public CertificateFetcher proxyFromEnvironment() {
    return new CertificateFetcher(trustStore, timeout, maxRedirects, clock,
        ProxyRoute.fromEnvironment(System.getenv()));
  }

  /**
   * Follows {@code url} to its effective URL and chooses the anchor of the chain found there.
   *
   * <p><b>Cancellation:</b> closes the connection.
   *
   * <p><b>Threading:</b> the result arrives on a Netty event loop.
   *
   * <p><b>Errors:</b> {@link OtaException}: {@code USAGE} (not an https URL), {@code NETWORK},
   * {@code SERVER} (a redirect loop, too many), {@code POLICY} (a redirect to plain http),
   * {@code TRUST} (no TLS 1.2+ handshake possible); through a proxy, {@code NETWORK} /
   * {@code PROXY_FAILED} when the proxy refuses, cannot be reached or drops the tunnel.
   *
   * @param url the firmware URL (user-info is dropped, never sent)
   * @return what was found
   */
  public Mono<FetchedCertificate> fetch(String url) {
    Objects.requireNonNull(url, "url");
    return Mono.defer(() -> {
      URI uri = UpdateRequest.of(url).uri();
      if (uri.getScheme() == null || !"https".equals(uri.getScheme().toLowerCase(Locale.ROOT))) {
        return Mono.error(OtaException.of(OtaException.Detail.NOT_HTTPS, "Only https:// URLs have certificates to fetch, not \"" + uri
            + "\"."));
      }
      return follow(client(), uri);
    });
  }

  private Mono<FetchedCertificate> follow(HttpClient http, URI uri) {
    Exchange exchange = new Exchange(uri, null, maxRedirects, timeout, Schedulers.parallel(), (error, at, tls) -> {
      ProxyRoute p = proxy;
      OtaException viaProxy = p != null && p.proxies(at) ? Failures.viaProxy(error, at, p.where(), timeout, tls) : null;
      return viaProxy != null ? viaProxy : Failures.map(error, at, timeout, timeout, timeout, tls);
    });
    // whatever the status, the chain is what was asked for
    return exchange.get(http, uri, h -> { }, (at, response, connection) -> {
      X509Certificate[] chain = ImageFetch.peerChain(connection);
      connection.dispose();
      if (chain.length == 0) {
        throw OtaException.of(Reason.TRUST, Failures.origin(at) + " presented no certificate.");
      }
      return Mono.just(choose(at, chain));
    }).next();
  }

  private HttpClient client() {
    SslContext context;
    try {
      context = SslContextBuilder.forClient()
          .protocols("TLSv1.3", "TLSv1.2")
          .trustManager(new TrustOnFirstUse())
          .build();
    } catch (SSLException e) {
      throw OtaException.of(Reason.TRUST, "The TLS client could not be set up (" + e.getMessage() + ").", e);
    }
    HttpClient http = HttpClient.newConnection()
        .secure(spec -> spec.sslContext(context).handshakeTimeout(timeout))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .responseTimeout(timeout)
        .followRedirect(false)
        .compress(false)
        .headers(h -> h.set("User-Agent", "otaflux-get-cert"));
    return proxy != null ? proxy.on(http, timeout.toMillis()) : http;
  }

  FetchedCertificate choose(URI effective, X509Certificate[] chain) {
    Instant now = clock.instant();
    List<String> warnings = new ArrayList<>();
    warnings.add("The chain of " + effective.getHost() + " was read without validating it (trust on first use):"
        + " compare the pin with one obtained another way before relying on it.");
    X509Certificate anchor = null;
    AnchorSource source = null;
    // the root is the self-signed certificate the chain leads to by signatures, never one the server
    // merely sent along: a stray self-signed certificate issued nothing the device will see
    X509Certificate top = AnchoredTrustManager.topmost(chain);
    if (AnchoredTrustManager.isSelfIssued(top) && AnchoredTrustManager.signedBy(top, top)) {
      anchor = top;
      source = AnchorSource.SENT_BY_SERVER;
    }
    for (X509Certificate c : chain) {
      if (!c.equals(top) && AnchoredTrustManager.isSelfIssued(c) && !c.equals(chain[0])) {
        warnings.add("The server also sent \"" + c.getSubjectX500Principal().getName() + "\", which did not issue its"
            + " chain; it was ignored.");
      }
    }
    if (anchor == null && trustStore != null && !trustStore.isJdkDefault()) {
      anchor = issuerOf(top, trustStore.certificates());
      source = anchor == null ? null : AnchorSource.GIVEN_TRUST_STORE;
    }
    if (anchor == null) {
      anchor = issuerOf(top, jdkCertificates());
      source = anchor == null ? null : AnchorSource.JDK_TRUST_STORE;
    }
    if (anchor == null || source == null) {
      anchor = top;
      source = AnchorSource.TOPMOST_PRESENTED;
      warnings.add("The anchor \"" + top.getSubjectX500Principal().getName() + "\" is not a root: the server sent no"
          + " root, and its issuer \"" + top.getIssuerX500Principal().getName() + "\" is in no trust store given."
          + " It will change when the server's intermediate does, and updates will then fail; give the root with"
          + " --trust-store to save it instead.");
    }
    Instant notAfter = anchor.getNotAfter().toInstant();
    String subject = anchor.getSubjectX500Principal().getName();
    if (notAfter.isBefore(now)) {
      warnings.add("The anchor \"" + subject + "\" expired on " + notAfter + ". Ask the server's operator which CA"
          + " replaces it.");
    } else if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
      warnings.add("The anchor \"" + subject + "\" expires on " + notAfter + ", in "
          + Duration.between(now, notAfter).toDays() + " days: devices trusting only it will fail after that;"
          + " give them its successor in time.");
    }
    return new FetchedCertificate(effective, Arrays.asList(chain), anchor, source, now, warnings);
  }

  private static @Nullable X509Certificate issuerOf(X509Certificate top, List<X509Certificate> candidates) {
    for (X509Certificate c : candidates) {
      if (c.getSubjectX500Principal().equals(top.getIssuerX500Principal()) && AnchoredTrustManager.signedBy(top, c)) {
        return c;
      }
    }
    return null;
  }

  private static List<X509Certificate> jdkCertificates() {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      for (TrustManager tm : factory.getTrustManagers()) {
        if (tm instanceof X509TrustManager) {
          return Arrays.asList(((X509TrustManager) tm).getAcceptedIssuers());
        }
      }
    } catch (GeneralSecurityException e) {
      log.debug("The JDK's trust store could not be read: {}", e.toString());
    }
    return List.of();
  }
}
