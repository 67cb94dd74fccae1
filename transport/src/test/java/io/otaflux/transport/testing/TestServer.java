package io.otaflux.transport.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.tcp.TcpServer;

/**
 * A real Reactor Netty server on an ephemeral port of 127.0.0.1 (reached as {@code localhost}):
 * HTTPS with a {@link TestPki.Identity}, plain HTTP, or a TCP peer that never speaks. Routes can
 * be added after start (a redirect to another server needs its port). Records every request and
 * counts connections, open and closed.
 */
public final class TestServer implements AutoCloseable {

  /** What a route does with the n-th request it gets (0-based). */
  @FunctionalInterface
  public interface Route {
    /**
     * Answers a request.
     *
     * @param request the request
     * @param response the response
     * @param n how many requests this route answered before
     * @return completion of the answer
     */
    Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response, int n);
  }

  /**
   * A request as the server saw it.
   *
   * @param method the method
   * @param path the path
   * @param headers a copy of the headers
   */
  public record Recorded(String method, String path, HttpHeaders headers) {
    /**
     * A header's value.
     *
     * @param name the header name
     * @return the value or null
     */
    public @Nullable String header(String name) {
      return headers.get(name);
    }
  }

  private final String scheme;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final List<Recorded> requests = new ArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger channels = new AtomicInteger();
  private final Sinks.Many<Integer> closed = Sinks.many().replay().all();
  private final Sinks.Many<Integer> received = Sinks.many().replay().latest();
  private final DisposableServer server;

  private TestServer(String scheme, TestPki.@Nullable Identity identity, boolean silent, String... protocols) {
    this(scheme, identity, silent, false, protocols);
  }

  private TestServer(String scheme, io.netty.handler.ssl.SslContext context) {
    this.scheme = scheme;
    server = HttpServer.create().host("127.0.0.1").port(0)
        .doOnConnection(this::opened)
        .handle(this::dispatch)
        .secure(spec -> spec.sslContext(context))
        .bindNow(Duration.ofSeconds(5));
  }

  private TestServer(String scheme, byte[] reply) {
    this.scheme = scheme;
    server = TcpServer.create().host("127.0.0.1").port(0)
        .doOnConnection(c -> opened(c))
        .handle((in, out) -> in.receive().take(1).then(out.sendByteArray(Mono.just(reply)).then()))
        .bindNow(Duration.ofSeconds(5));
  }

  private TestServer(String scheme, TestPki.@Nullable Identity identity, boolean silent, boolean hangUp,
      String... protocols) {
    this.scheme = scheme;
    if (silent || hangUp) {
      server = TcpServer.create().host("127.0.0.1").port(0)
          .doOnConnection(c -> opened(c))
          .handle((in, out) -> hangUp ? in.receive().take(1).then() : Mono.never())
          .bindNow(Duration.ofSeconds(5));
      return;
    }
    HttpServer http = HttpServer.create().host("127.0.0.1").port(0)
        .doOnChannelInit((observer, channel, address) -> channels.incrementAndGet())
        .doOnConnection(this::opened)
        .handle(this::dispatch);
    if (identity != null) {
      http = http.secure(spec -> spec.sslContext(protocols.length == 0 ? identity.serverContext()
          : identity.serverContext(protocols)));
    }
    server = http.bindNow(Duration.ofSeconds(5));
  }

  /**
   * An HTTPS server presenting {@code identity}.
   *
   * @param identity key and chain
   * @return the started server
   */
  public static TestServer https(TestPki.Identity identity) {
    return new TestServer("https", identity, false);
  }

  /**
   * An HTTPS server presenting {@code identity} that requires a client certificate under
   * {@code clientCa} (mutual TLS) with these TLS versions (none: 1.3 and 1.2).
   *
   * @param identity key and chain
   * @param clientCa the CA client certificates must lead to
   * @param protocols the TLS versions
   * @return the started server
   */
  public static TestServer httpsRequiringClientCertificate(TestPki.Identity identity,
      java.security.cert.X509Certificate clientCa, String... protocols) {
    return new TestServer("https", identity.serverContextRequiringClients(clientCa, protocols));
  }

  /**
   * An HTTPS server presenting {@code identity} with only these TLS versions (an outdated server).
   *
   * @param identity key and chain
   * @param protocols for example {@code TLSv1.1}
   * @return the started server
   */
  public static TestServer https(TestPki.Identity identity, String... protocols) {
    return new TestServer("https", identity, false, protocols);
  }

  /**
   * A plain HTTP server (the target of a downgrade redirect).
   *
   * @return the started server
   */
  public static TestServer plainHttp() {
    return new TestServer("http", null, false);
  }

  /**
   * A TCP server that accepts and never says anything (a TLS handshake that never ends).
   *
   * @return the started server
   */
  public static TestServer silent() {
    return new TestServer("https", null, true);
  }

  /**
   * A TCP server that reads the first bytes (a TLS ClientHello) and closes the connection.
   *
   * @return the started server
   */
  public static TestServer hangingUp() {
    return new TestServer("https", null, false, true);
  }

  /**
   * A TCP server that answers the first bytes (a TLS ClientHello) with a fatal TLS
   * {@code protocol_version} alert record ({@code 15 03 03 00 02 02 46}) and closes: what a server
   * says that speaks only TLS versions older than the client offers.
   *
   * @return the started server
   */
  public static TestServer refusingTlsVersion() {
    return new TestServer("https", new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46});
  }

  /**
   * A TCP server that answers the first bytes (a TLS ClientHello) with a TLS 1.1 ServerHello
   * record (version 0x0302, a fixed random, no session id, TLS_RSA_WITH_AES_128_CBC_SHA) and then
   * waits: what a server that speaks nothing newer than TLS 1.1 sends to a client that also
   * offers older versions.
   *
   * @return the started server
   */
  public static TestServer answeringWithTls11ServerHello() {
    byte[] hello = new byte[5 + 4 + 2 + 32 + 1 + 2 + 1];
    int i = 0;
    for (int b : new int[] {0x16, 0x03, 0x02, 0x00, 4 + 2 + 32 + 1 + 2 + 1, 0x02, 0x00, 0x00, 2 + 32 + 1 + 2 + 1,
        0x03, 0x02}) {
      hello[i++] = (byte) b;
    }
    i += 32; // the server random: zeros
    hello[i++] = 0x00; // no session id
    hello[i++] = 0x00;
    hello[i++] = 0x2f; // TLS_RSA_WITH_AES_128_CBC_SHA
    hello[i] = 0x00; // no compression
    return new TestServer("https", hello);
  }

  /**
   * Answers {@code path} with {@code route} from now on.
   *
   * @param path the path, starting with {@code /}
   * @param route the route
   * @return this server
   */
  public TestServer route(String path, Route route) {
    routes.put(path, route);
    return this;
  }

  /** @return the port */
  public int port() {
    return server.port();
  }

  /**
   * The URL of a path on this server, with host {@code localhost}.
   *
   * @param path the path
   * @return the URL
   */
  public String url(String path) {
    return scheme + "://localhost:" + port() + path;
  }

  /** @return a copy of the requests received so far */
  public List<Recorded> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** @return how many connections were accepted so far */
  public int connections() {
    return connections.get();
  }

  /** @return how many TCP connections an HTTPS server accepted (a kept-alive one counts once) */
  public int channels() {
    return channels.get();
  }

  /** @return how many accepted connections are still open */
  public int openConnections() {
    return open.get();
  }

  /**
   * Completes once no accepted connection is open (and at least {@code accepted} were accepted).
   *
   * @param accepted connections that must have been accepted
   * @return a Mono completing then
   */
  public Mono<Void> allClosed(int accepted) {
    return closed.asFlux().filter(n -> n == 0 && connections.get() >= accepted).next().then();
  }

  /**
   * Completes once {@code n} requests have been received.
   *
   * @param n how many
   * @return a Mono completing then
   */
  public Mono<Void> received(int n) {
    return received.asFlux().filter(count -> count >= n).next().then();
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }

  private void opened(reactor.netty.Connection connection) {
    connections.incrementAndGet();
    open.incrementAndGet();
    connection.onDispose(() -> {
      int n = open.decrementAndGet();
      closed.tryEmitNext(n);
    });
  }

  private Publisher<Void> dispatch(HttpServerRequest request, HttpServerResponse response) {
    String path = request.fullPath();
    synchronized (requests) {
      requests.add(new Recorded(request.method().name(), path, request.requestHeaders().copy()));
      received.tryEmitNext(requests.size());
    }
    Route route = routes.get(path);
    if (route == null) {
      return response.status(HttpResponseStatus.NOT_FOUND).send();
    }
    int n = counts.computeIfAbsent(path, p -> new AtomicInteger()).getAndIncrement();
    return route.handle(request, response, n);
  }
}
