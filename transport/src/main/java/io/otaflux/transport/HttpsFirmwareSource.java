package io.otaflux.transport;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import javax.net.ssl.SSLException;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Firmware images over HTTPS, on Reactor Netty.
 *
 * <ul>
 *   <li><b>Trust:</b> TLS 1.2 or 1.3; the chain must lead to one of the {@link TrustAnchors}
 *   (the JDK's by default) with every certificate below the anchor in its dates; the host name is
 *   always verified; with {@link #pin pins}, one of them must name a key of the chain PKIX built
 *   (not merely of a certificate the server sent).</li>
 *   <li><b>Redirects:</b> followed by hand, at most {@link #maxRedirects(int) 10}, to https only;
 *   the final URL is {@link ImageDownload#effectiveUri()}.</li>
 *   <li><b>Credentials</b> (from {@link UpdateRequest#credentials()}) go to the request's origin
 *   (scheme, host, port) only, never past a redirect to another one.</li>
 *   <li><b>Resume:</b> {@code Range: bytes=N-} with {@code If-Range} as RFC 9110 13.1.5 allows
 *   it: a strong ETag, else a Last-Modified date that is strong (at least a second before the
 *   answer's Date); never a weak ETag, and without a usable validator the whole image is asked
 *   for. A {@code 200} answer means the whole image again ({@link ImageDownload#offset()} 0);
 *   {@code 416} is asked again from byte 0; a {@code 206} that does not carry the validator sent
 *   belongs to another image and is never handed on: the whole image is asked for instead (and
 *   a {@code 206} to that is {@code INCONSISTENT_RESPONSE}).</li>
 *   <li><b>Timeouts:</b> connect, TLS handshake, and idle: the wait for the answer, then
 *   silence in the body while bytes are wanted (a slow slot writer does not count). Every silence
 *   is bounded by the idle timeout: unless set on their own, the connect and handshake timeouts
 *   are the idle timeout.</li>
 *   <li><b>Proxy:</b> with {@link #proxy(String, String)} or {@link #proxyFromEnvironment()}, through
 *   an HTTP proxy by {@code CONNECT}; the TLS session is end to end inside the tunnel, so every
 *   rule above holds unchanged.</li>
 *   <li><b>Mutual TLS:</b> with {@link #clientKey(ClientKey)}, the device's certificate goes to
 *   servers that ask for one.</li>
 *   <li><b>Your own client settings:</b> {@link #httpClient(UnaryOperator)}; the subscriber's
 *   Reactor {@code Context} reaches the client's hooks.</li>
 * </ul>
 *
 * <p>Immutable and copy-on-write: every setter returns a new source, so a configured source is a
 * template safe to share.
 *
 * <pre>{@code
 * HttpsFirmwareSource source = HttpsFirmwareSource.create()
 *     .trustAnchors(TrustAnchors.fromPemFile(Path.of("root.pem")))   // root or intermediate CA(s)
 *     .pin(SpkiPin.parse("sha256/r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E="))
 *     .idleTimeout(Duration.ofSeconds(30));
 * OtaUpdater.create().source(source).store(store).update(UpdateRequest.of(url));
 * }</pre>
 */
public final class HttpsFirmwareSource implements FirmwareSource {

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  /** Largest body chunk handed downstream, and the largest socket read. */
  static final int BODY_CHUNK = 256 * 1024;

  private final TrustAnchors anchors;
  private final @Nullable Set<SpkiPin> pins;
  /** Null: the idle timeout. */
  private final @Nullable Duration connectTimeout;
  /** Null: the idle timeout. */
  private final @Nullable Duration handshakeTimeout;
  private final Duration idleTimeout;
  private final int maxRedirects;
  private final @Nullable Scheduler timer;
  private final @Nullable ProxyRoute proxy;
  private final @Nullable UnaryOperator<HttpClient> customizer;
  private final @Nullable ClientKey clientKey;

  private volatile @Nullable Transport transport;

  private HttpsFirmwareSource(TrustAnchors anchors, @Nullable Set<SpkiPin> pins, @Nullable Duration connectTimeout,
      @Nullable Duration handshakeTimeout, Duration idleTimeout, int maxRedirects, @Nullable Scheduler timer,
      @Nullable ProxyRoute proxy, @Nullable UnaryOperator<HttpClient> customizer, @Nullable ClientKey clientKey) {
    this.anchors = anchors;
    this.pins = pins;
    this.connectTimeout = connectTimeout;
    this.handshakeTimeout = handshakeTimeout;
    this.idleTimeout = idleTimeout;
    this.maxRedirects = maxRedirects;
    this.timer = timer;
    this.proxy = proxy;
    this.customizer = customizer;
    this.clientKey = clientKey;
  }

  /**
   * A source trusting the JDK's default CAs, with no pins, a 30 s idle timeout (which the connect
   * and handshake timeouts follow) and at most 10 redirects.
   *
   * @return the source
   */
  public static HttpsFirmwareSource create() {
    return new HttpsFirmwareSource(TrustAnchors.jdkDefault(), null, null, null, DEFAULT_TIMEOUT, 10, null, null, null,
        null);
  }

  /**
   * This source, trusting {@code anchors} instead.
   *
   * @param anchors the root or intermediate CAs a chain must lead to
   * @return a new source
   */
  public HttpsFirmwareSource trustAnchors(TrustAnchors anchors) {
    Objects.requireNonNull(anchors, "anchors");
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        proxy, customizer, clientKey);
  }

  /**
   * This source, requiring one of {@code pins} in the validated chain (replacing any pins given
   * before). An empty collection turns pinning on with nothing allowed: every connection fails.
   *
   * @param pins the allowed keys; any one matching is enough (backup pins)
   * @return a new source
   */
  public HttpsFirmwareSource pins(Collection<SpkiPin> pins) {
    Objects.requireNonNull(pins, "pins");
    Set<SpkiPin> copy = new LinkedHashSet<>();
    for (SpkiPin p : pins) {
      copy.add(Objects.requireNonNull(p, "pin"));
    }
    return new HttpsFirmwareSource(anchors, Set.copyOf(copy), connectTimeout, handshakeTimeout, idleTimeout,
        maxRedirects, timer, proxy, customizer, clientKey);
  }

  /**
   * This source, also accepting a chain holding the key {@code pin} names (pinning turns on).
   *
   * @param pin an allowed key
   * @return a new source
   */
  public HttpsFirmwareSource pin(SpkiPin pin) {
    Objects.requireNonNull(pin, "pin");
    Set<SpkiPin> copy = new LinkedHashSet<>();
    if (pins != null) {
      copy.addAll(pins);
    }
    copy.add(pin);
    return new HttpsFirmwareSource(anchors, Set.copyOf(copy), connectTimeout, handshakeTimeout, idleTimeout,
        maxRedirects, timer, proxy, customizer, clientKey);
  }

  /**
   * This source, giving up a TCP connect after {@code timeout} (by default the idle timeout).
   *
   * @param timeout the connect timeout, positive
   * @return a new source
   */
  public HttpsFirmwareSource connectTimeout(Duration timeout) {
    return new HttpsFirmwareSource(anchors, pins, positive(timeout, "connect timeout"), handshakeTimeout, idleTimeout,
        maxRedirects, timer, proxy, customizer, clientKey);
  }

  /**
   * This source, giving up a TLS handshake after {@code timeout} (by default the idle timeout, so
   * a server that accepts TCP and never answers the handshake holds no attempt longer than any
   * other silence).
   *
   * @param timeout the handshake timeout, positive
   * @return a new source
   */
  public HttpsFirmwareSource handshakeTimeout(Duration timeout) {
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, positive(timeout, "handshake timeout"), idleTimeout,
        maxRedirects, timer, proxy, customizer, clientKey);
  }

  /**
   * This source, giving up when the server is silent for {@code timeout} (default 30 s): while
   * waiting for the answer, and in the body while bytes are wanted. Unless set on their own, the
   * connect and TLS handshake timeouts are this one too.
   *
   * @param timeout the idle timeout, positive
   * @return a new source
   */
  public HttpsFirmwareSource idleTimeout(Duration timeout) {
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, positive(timeout, "idle timeout"),
        maxRedirects, timer, proxy, customizer, clientKey);
  }

  /**
   * This source, following at most {@code hops} redirects (default 10; 0 follows none).
   *
   * @param hops the limit, from 0 to 50
   * @return a new source
   */
  public HttpsFirmwareSource maxRedirects(int hops) {
    if (hops < 0 || hops > 50) {
      throw OtaException.of(Reason.USAGE, "Allow from 0 to 50 redirects, not " + hops + ".");
    }
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, hops, timer, proxy,
        customizer, clientKey);
  }

  /**
   * This source, keeping the body's idle time on {@code timer} (default {@link Schedulers#parallel()}).
   *
   * @param timer the scheduler the idle timer runs on
   * @return a new source
   */
  public HttpsFirmwareSource scheduler(Scheduler timer) {
    Objects.requireNonNull(timer, "timer");
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        proxy, customizer, clientKey);
  }

  /**
   * This source, connecting through the HTTP proxy {@code proxy}
   * ({@code http://[user:pass@]host[:port]}, port 1080 when not given, as curl) with
   * {@code CONNECT}, except for the hosts {@code noProxy} lists (curl's {@code no_proxy} syntax:
   * comma-separated names, each matching the host and its subdomains with or without a leading
   * dot, IP addresses, {@code host:port}, or {@code *} for all; case-insensitive; null: none).
   *
   * <p>The TLS session runs inside the tunnel between this device and the origin: trust anchors,
   * pins and the host name are checked exactly as without a proxy, and the proxy sees only the
   * origin's host and port. The proxy's credentials go only to the proxy and appear in no log,
   * sentence or {@link #toString()}. A proxy that refuses the tunnel, cannot be reached or closes
   * it is {@code NETWORK} / {@link OtaException.Detail#PROXY_FAILED}.
   *
   * @param proxy the proxy's URL
   * @param noProxy the hosts that go around it, or null
   * @return a new source
   */
  public HttpsFirmwareSource proxy(String proxy, @Nullable String noProxy) {
    Objects.requireNonNull(proxy, "proxy");
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        ProxyRoute.parse(proxy, noProxy), customizer, clientKey);
  }

  /**
   * This source, with the proxy the environment names as curl reads it for https URLs:
   * {@code https_proxy} (else {@code HTTPS_PROXY}, else {@code all_proxy} / {@code ALL_PROXY}),
   * bypassed for {@code no_proxy} (else {@code NO_PROXY}); see {@link #proxy(String, String)}.
   * Without such variables, no proxy.
   *
   * @return a new source
   */
  public HttpsFirmwareSource proxyFromEnvironment() {
    return proxyFrom(System.getenv());
  }

  /** {@link #proxyFromEnvironment()} with {@code env} as the environment. */
  HttpsFirmwareSource proxyFrom(Map<String, String> env) {
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        ProxyRoute.fromEnvironment(env), customizer, clientKey);
  }

  /**
   * This source, letting {@code customizer} adjust the Reactor Netty {@link HttpClient} every
   * request goes out on, after this source has configured it: a resolver, metrics, wiretap, your
   * own {@code LoopResources} or headers. It is applied when the first image is opened, and again
   * to the pooled client each {@link #readRanges} builds for its kept-alive connections.
   *
   * <p><b>Must not be undone:</b> the TLS set-up ({@code secure(...)}: the trust anchors, pins and
   * host-name check live there), {@code followRedirect(false)} (redirects are followed by this
   * source, https only, credentials bound to the origin), {@code responseTimeout} and the connect
   * timeout, and the proxy ({@link #proxy}). A customizer that replaces them takes those rules away.
   * Calling this again replaces the customizer given before.
   *
   * @param customizer returns the client to use, given the configured one
   * @return a new source
   */
  public HttpsFirmwareSource httpClient(UnaryOperator<HttpClient> customizer) {
    Objects.requireNonNull(customizer, "customizer");
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        proxy, customizer, clientKey);
  }

  /**
   * This source, presenting {@code key}'s certificate to servers that ask for one (mutual TLS): for
   * the image, a manifest and every range request, through a proxy too. Without it, a server that
   * requires a client certificate fails with {@link OtaException.Detail#CLIENT_CERT_REQUIRED}; a
   * server that refuses the certificate given, with {@link OtaException.Detail#CLIENT_CERT_REFUSED}
   * (both {@code TRUST}, not transient).
   *
   * @param key the certificate chain and private key, e.g. {@link ClientKey#fromPemFiles}
   * @return a new source
   */
  public HttpsFirmwareSource clientKey(ClientKey key) {
    Objects.requireNonNull(key, "key");
    return new HttpsFirmwareSource(anchors, pins, connectTimeout, handshakeTimeout, idleTimeout, maxRedirects, timer,
        proxy, customizer, key);
  }

  /**
   * Opens the image: connects, follows redirects, checks the status, and succeeds with the
   * answer's metadata before any of the body is read.
   *
   * <p><b>Cancellation:</b> cancelling before the {@code Mono} succeeds closes the connection;
   * afterwards, cancel the body or call {@link ImageDownload#discard()}.
   *
   * <p><b>Threading:</b> signals arrive on a Netty event loop; body buffers are copies the
   * subscriber owns, so they may cross to a writer thread.
   *
   * <p><b>Errors:</b> {@link OtaException} with reason {@code USAGE} (not an https URL),
   * {@code TRUST} (chain, pin, host name, dates, handshake), {@code NETWORK} (refused, timeouts,
   * lost: transient; an unknown host: not), {@code SERVER} (a 4xx status, a malformed answer,
   * too many redirects or a loop; 5xx, 408 and 429 are transient and carry {@code Retry-After}),
   * {@code POLICY} (a redirect to a non-https URL).
   *
   * @param request the image and its credentials
   * @param from where to start
   * @return the opened image
   */
  @Override
  public Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(from, "from");
    return Mono.defer(() -> {
      checkHttps(request);
      return new ImageFetch(transport(), request, from).open();
    });
  }

  /**
   * Opens bytes {@code from} to {@code from + length - 1} of a file with a bounded Range request
   * (the delta update's fetches); see {@link FirmwareSource#openRange}.
   *
   * @param request the file and its credentials
   * @param from the first byte
   * @param length how many bytes
   * @param validator the file's validator for {@code If-Range}, or null
   * @return the opened range
   */
  @Override
  public Mono<ImageDownload> openRange(UpdateRequest request, long from, long length, @Nullable String validator) {
    Objects.requireNonNull(request, "request");
    if (from < 0 || length < 1) {
      throw new IllegalArgumentException("a range needs from >= 0 and length >= 1");
    }
    return Mono.defer(() -> {
      checkHttps(request);
      return new RangeFetch(transport(), request, validator).open(from, length);
    });
  }

  /**
   * Reads byte ranges of a file, several ranges per request ({@code multipart/byteranges}), with up to
   * two requests in flight on pooled keep-alive connections that are closed at the end; see
   * {@link FirmwareSource#readRanges}. A server that answers several ranges with the whole file, or
   * with one range much larger than what was asked for, is asked one range per request instead.
   *
   * <p><b>Errors:</b> as {@link #open}; {@code INCONSISTENT_RESPONSE} when the file changed between
   * two answers (another validator or size); {@code RANGE_NOT_SUPPORTED} when a single range is
   * answered with the whole file.
   *
   * @param request the file and its credentials
   * @param ranges the ranges, ascending and not overlapping
   * @param validator the file's validator for {@code If-Range}, or null
   * @return the bytes of the ranges, in order
   */
  @Override
  public Flux<ByteBuffer> readRanges(UpdateRequest request, List<Range> ranges, @Nullable String validator) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(ranges, "ranges");
    List<Range> copy = List.copyOf(ranges);
    return Flux.defer(() -> {
      checkHttps(request);
      return copy.isEmpty() ? Flux.empty() : new RangeFetch(transport(), request, validator).read(copy);
    });
  }

  private static void checkHttps(UpdateRequest request) {
    String scheme = request.uri().getScheme();
    if (scheme == null || !"https".equals(scheme.toLowerCase(Locale.ROOT))) {
      throw OtaException.of(OtaException.Detail.NOT_HTTPS, "Only https:// URLs are fetched, not \"" + request.uri()
          + "\"; give the image's https URL.");
    }
  }

  @Override
  public String toString() {
    return "HttpsFirmwareSource[" + anchors + (pins == null ? "" : ", " + pins.size() + " pin(s)") + ", connect "
        + Failures.human(connectTimeout != null ? connectTimeout : idleTimeout) + ", handshake "
        + Failures.human(handshakeTimeout != null ? handshakeTimeout : idleTimeout) + ", idle "
        + Failures.human(idleTimeout) + ", redirects " + maxRedirects + (proxy == null ? "" : ", " + proxy)
        + (customizer == null ? "" : ", customized client") + (clientKey == null ? "" : ", " + clientKey) + "]";
  }

  private Transport transport() {
    Transport t = transport;
    if (t == null) {
      synchronized (this) {
        t = transport;
        if (t == null) {
          t = buildTransport();
          transport = t;
        }
      }
    }
    return t;
  }

  private Transport buildTransport() {
    AnchoredTrustManager trust;
    SslContext context;
    // installed with or without a key: it also tells a server that requires a client certificate
    ClientKeyManager keys = new ClientKeyManager(clientKey);
    try {
      trust = AnchoredTrustManager.create(anchors, pins);
      context = SslContextBuilder.forClient()
          .protocols("TLSv1.3", "TLSv1.2")
          .trustManager(trust)
          .keyManager(keys)
          .endpointIdentificationAlgorithm("HTTPS")
          .build();
    } catch (GeneralSecurityException | SSLException e) {
      throw OtaException.of(Reason.TRUST, "The TLS client could not be set up with " + anchors.description() + " ("
          + e.getMessage() + ").", e);
    }
    // every silence is bounded by the idle timeout the user gave, unless connect and handshake have their own
    Duration connect = connectTimeout != null ? connectTimeout : idleTimeout;
    Duration handshake = handshakeTimeout != null ? handshakeTimeout : idleTimeout;
    UnaryOperator<HttpClient> setUp = client -> configured(client, context, keys, connect, handshake);
    return new Transport(setUp.apply(HttpClient.newConnection()), setUp, trust, connect, handshake, idleTimeout,
        maxRedirects, timer != null ? timer : Schedulers.parallel(), proxy);
  }

  /** One set-up for every client this source uses: TLS, timeouts, no redirects, the proxy, the user's customizer. */
  @SuppressWarnings("deprecation")
  private HttpClient configured(HttpClient client, SslContext context, ClientKeyManager keys, Duration connect,
      Duration handshake) {
    HttpClient http = client
        .secure(spec -> spec.sslContext(context).handshakeTimeout(handshake))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connect.toMillis()))
        .responseTimeout(idleTimeout)
        .followRedirect(false)
        .compress(false)
        // body chunks and socket reads up to 256 KiB instead of 8 and 64: fewer hand-offs, hashes and
        // writes per image, 5-10 % less CPU per GiB (benchmarks/RESULTS.md); the reads start small and
        // grow only while the socket fills them; deprecated only because Netty 5 drops the setting
        .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, BODY_CHUNK))
        .httpResponseDecoder(spec -> spec.maxChunkSize(BODY_CHUNK))
        .headers(h -> h.set("User-Agent", "otaflux"));
    http = keys.on(http);
    if (proxy != null) {
      http = proxy.on(http, connect.toMillis());
    }
    if (customizer != null) {
      http = Objects.requireNonNull(customizer.apply(http), "the HttpClient customizer returned null");
    }
    return http;
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw OtaException.of(Reason.USAGE, "The " + what + " must be positive, not " + d + ".");
    }
    return d;
  }

  /** What the opens of one configured source share. */
  record Transport(HttpClient http, UnaryOperator<HttpClient> setUp, AnchoredTrustManager trust, Duration connectTimeout, Duration handshakeTimeout,
      Duration idleTimeout, int maxRedirects, Scheduler timer, @Nullable ProxyRoute proxy) {

    /** The same client on connections from {@code pool}, kept alive between requests. */
    HttpClient pooled(ConnectionProvider pool) {
      return setUp.apply(HttpClient.create(pool));
    }

    OtaException failure(Throwable error, java.net.URI uri) {
      OtaException viaProxy = proxyFailure(error, uri, null);
      return viaProxy != null ? viaProxy : Failures.map(error, uri, connectTimeout, handshakeTimeout, idleTimeout);
    }

    OtaException failure(Throwable error, java.net.URI uri, TlsVersionWatch tls) {
      OtaException viaProxy = proxyFailure(error, uri, tls);
      return viaProxy != null ? viaProxy
          : Failures.map(error, uri, connectTimeout, handshakeTimeout, idleTimeout, tls);
    }

    private @Nullable OtaException proxyFailure(Throwable error, java.net.URI uri, @Nullable TlsVersionWatch tls) {
      ProxyRoute p = proxy;
      return p != null && p.proxies(uri) ? Failures.viaProxy(error, uri, p.where(), connectTimeout, tls) : null;
    }
  }
}
