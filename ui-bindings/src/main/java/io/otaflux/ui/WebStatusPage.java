package io.otaflux.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.UpdateSession;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.GlobalEventExecutor;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * A local web page showing an update live, with an Abort button: served on {@code 127.0.0.1}
 * only, by Reactor Netty, as plain HTML, CSS and a little JavaScript.
 *
 * <pre>{@code
 * UpdateSession session = updater.session(request);
 * WebStatusServer page = WebStatusPage.create()
 *     .port(8080)                        // 0: any free port, see page.port()
 *     .title("gw-2.0.bin")
 *     .serve(session)
 *     .block();
 * session.start();                       // browse http://127.0.0.1:8080/
 * session.result().onErrorResume(e -> Mono.empty()).block();
 * page.close();
 * }</pre>
 *
 * <p>What it serves:
 * <ul>
 *   <li>{@code GET /}: the page; {@code /status.css} and {@code /status.js} beside it;</li>
 *   <li>{@code GET /events}: Server-Sent Events ({@code text/event-stream}), one {@code data:}
 *       line of JSON per view, ending after the final view; any number of browsers may watch;</li>
 *   <li>{@code GET /status.json}: the current view as JSON;</li>
 *   <li>{@code POST /abort}: aborts the update; answers {@code 202}.</li>
 * </ul>
 *
 * <p><b>Cross-site requests:</b> only the page can abort. Each served page holds a random token
 * (256 bits, new for every {@link #serve}) that {@code POST /abort} must carry in the
 * {@code X-OtaFlux-Token} header; a request without it, with another one, with an {@code Origin}
 * other than the page's, or marked {@code Sec-Fetch-Site: cross-site} is refused with
 * {@code 403}. Every request must name {@code 127.0.0.1} or {@code localhost} with the page's port
 * in {@code Host} (so a DNS-rebound name cannot read the token); others get {@code 403}. The page
 * forbids framing and inline script.
 *
 * <p>Immutable and copy-on-write: every setter returns a new page.
 */
public final class WebStatusPage {

  private static final Logger log = LoggerFactory.getLogger(WebStatusPage.class);
  static final String TOKEN_HEADER = "X-OtaFlux-Token";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
      + " img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final int port;
  /** The port browsers use when it is not the bound one (a forwarded port); 0: the bound one. */
  private final int publicPort;
  private final String title;
  private final Duration every;
  private final Scheduler timer;

  private WebStatusPage(int port, String title, Duration every, Scheduler timer) {
    this(port, title, every, timer, 0);
  }

  private WebStatusPage(int port, String title, Duration every, Scheduler timer, int publicPort) {
    this.publicPort = publicPort;
    this.port = port;
    this.title = title;
    this.every = every;
    this.timer = timer;
  }

  /**
   * A page on an ephemeral port, titled "Firmware update", updated at most every 100 ms.
   *
   * @return the page
   */
  public static WebStatusPage create() {
    return new WebStatusPage(0, "Firmware update", UpdateView.DEFAULT_EVERY, Schedulers.parallel());
  }

  /**
   * This page, on {@code port} of {@code 127.0.0.1}.
   *
   * @param port 1 to 65535, or 0 for any free port
   * @return a new page
   */
  public WebStatusPage port(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("a port is 0 to 65535, not " + port);
    }
    return new WebStatusPage(port, title, every, timer, publicPort);
  }

  /**
   * This page, with another title (the image's name, say).
   *
   * @param title what is being installed
   * @return a new page
   */
  public WebStatusPage title(String title) {
    Objects.requireNonNull(title, "title");
    return new WebStatusPage(port, title, every, timer, publicPort);
  }

  /**
   * This page, sending a running update's view at most once per {@code every}.
   *
   * @param every the shortest time between two views of the same phase
   * @param timer the clock (a virtual one in tests)
   * @return a new page
   */
  public WebStatusPage throttle(Duration every, Scheduler timer) {
    Objects.requireNonNull(every, "every");
    Objects.requireNonNull(timer, "timer");
    return new WebStatusPage(port, title, every, timer, publicPort);
  }

  /**
   * Serves the page for {@code session}. Serve before {@link UpdateSession#start()} so the page
   * sees every event; later it starts from the latest one.
   *
   * <p><b>Errors:</b> the port cannot be bound (in use, not allowed).
   *
   * <p><b>Threading:</b> requests are answered on Reactor Netty's event loops; the page only reads
   * the view and calls {@link UpdateSession#abort()}, which does not block.
   *
   * @param session the update to show and abort
   * @return the running page, once the port is bound
   */
  public Mono<WebStatusServer> serve(UpdateSession session) {
    Objects.requireNonNull(session, "session");
    return Mono.defer(() -> {
      Site site = new Site(session, newToken());
      return HttpServer.create()
          .host("127.0.0.1")
          .port(port)
          .handle(site::handle)
          // tracked connections are closed with the server, after the event streams have ended
          .channelGroup(new DefaultChannelGroup(GlobalEventExecutor.INSTANCE))
          .bind()
          .map(server -> {
            site.port = publicPort != 0 ? publicPort : server.port();
            log.debug("Status page at http://127.0.0.1:{}/", server.port());
            return new WebStatusServer(server, site.connect(), site.token);
          });
    });
  }

  /**
   * This page, checking {@code Host} and {@code Origin} against {@code port} instead of the bound
   * port: for a page reached through a forwarded port, and for tests of port 80 without binding it.
   */
  WebStatusPage publicPort(int port) {
    return new WebStatusPage(this.port, title, every, timer, port);
  }

  private static String newToken() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** One served session: its views, its token, its routes. */
  private final class Site {
    final UpdateSession session;
    final String token;
    final AtomicReference<UpdateView> latest;
    final Flux<UpdateView> views;
    volatile Disposable connection = Disposables.single();
    volatile int port;
    final String html;
    final Sinks.Empty<Void> closing = Sinks.empty();

    Site(UpdateSession session, String token) {
      this.session = session;
      this.token = token;
      this.port = WebStatusPage.this.port;
      this.latest = new AtomicReference<>(UpdateView.initial(title));
      this.views = UpdateView.from(session.events(), title, every, timer)
          .startWith(UpdateView.initial(title))
          .doOnNext(latest::set)
          .replay(1)
          .autoConnect(1, c -> connection = c);
      this.html = Resources.text("status.html")
          .replace("{{token}}", Resources.html(token))
          .replace("{{title}}", Resources.html(title));
    }

    /** Starts watching the session; the returned disposable ends every event stream and the watch. */
    Disposable connect() {
      views.subscribe(v -> { }, e -> log.debug("The page's views failed", e));
      return () -> {
        closing.tryEmitEmpty();
        connection.dispose();
      };
    }

    Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
      res.header("X-Content-Type-Options", "nosniff")
          .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
          .header("Referrer-Policy", "no-referrer");
      if (!isLocalHost(req.requestHeaders().get(HttpHeaderNames.HOST))) {
        return refuse(res, HttpResponseStatus.FORBIDDEN, "This page answers only to 127.0.0.1 or localhost.");
      }
      String path = req.fullPath();
      HttpMethod method = req.method();
      switch (path) {
        case "/":
        case "/index.html":
          return method == HttpMethod.GET ? page(res) : notAllowed(res, "GET");
        case "/status.css":
          return method == HttpMethod.GET ? file(res, "status.css", "text/css; charset=utf-8")
              : notAllowed(res, "GET");
        case "/status.js":
          return method == HttpMethod.GET ? file(res, "status.js", "text/javascript; charset=utf-8")
              : notAllowed(res, "GET");
        case "/status.json":
          return method == HttpMethod.GET ? json(res, HttpResponseStatus.OK, ViewJson.of(latest.get()))
              : notAllowed(res, "GET");
        case "/events":
          return method == HttpMethod.GET ? events(res) : notAllowed(res, "GET");
        case "/abort":
          return method == HttpMethod.POST ? abort(req, res) : notAllowed(res, "POST");
        default:
          return refuse(res, HttpResponseStatus.NOT_FOUND, "Not found.");
      }
    }

    private Publisher<Void> page(HttpServerResponse res) {
      return res.header(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
          .header("Content-Security-Policy", CSP)
          .header("X-Frame-Options", "DENY")
          .sendString(Mono.just(html), StandardCharsets.UTF_8);
    }

    private Publisher<Void> file(HttpServerResponse res, String name, String type) {
      return res.header(HttpHeaderNames.CONTENT_TYPE, type).sendString(Mono.just(Resources.text(name)),
          StandardCharsets.UTF_8);
    }

    private Publisher<Void> events(HttpServerResponse res) {
      Flux<String> frames = views.takeUntilOther(closing.asMono()).map(v -> "data: " + ViewJson.of(v) + "\n\n");
      return res.sse()
          .header(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .sendString(Flux.concat(Mono.just("retry: 2000\n\n"), frames), StandardCharsets.UTF_8);
    }

    private Publisher<Void> abort(HttpServerRequest req, HttpServerResponse res) {
      String why = crossSite(req);
      if (why != null) {
        log.debug("Refused an abort request: {}", why);
        return req.receive().then(refuse(res, HttpResponseStatus.FORBIDDEN, why));
      }
      log.debug("Abort requested from the status page");
      session.abort();
      return req.receive().then(json(res, HttpResponseStatus.ACCEPTED, "{\"abort\":\"requested\"}"));
    }

    /** Why a POST is refused, or null when it comes from the page. */
    private @Nullable String crossSite(HttpServerRequest req) {
      String origin = req.requestHeaders().get(HttpHeaderNames.ORIGIN);
      if (origin != null && !isLocalOrigin(origin)) {
        return "The request comes from another site (" + origin + ").";
      }
      String fetchSite = req.requestHeaders().get("Sec-Fetch-Site");
      if (fetchSite != null && !fetchSite.equals("same-origin")) {
        return "The request comes from another site (Sec-Fetch-Site: " + fetchSite + ").";
      }
      String given = req.requestHeaders().get(TOKEN_HEADER);
      if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
          token.getBytes(StandardCharsets.UTF_8))) {
        return "The request does not carry this page's token; use the Abort button on the page.";
      }
      return null;
    }

    private boolean isLocalHost(@Nullable String host) {
      return host != null && isLocalAuthority(host, port);
    }

    private boolean isLocalOrigin(String origin) {
      String o = origin.toLowerCase(Locale.ROOT);
      return o.startsWith("http://") && isLocalAuthority(o.substring("http://".length()), port);
    }

    private Mono<Void> notAllowed(HttpServerResponse res, String allow) {
      res.header(HttpHeaderNames.ALLOW, allow);
      return refuse(res, HttpResponseStatus.METHOD_NOT_ALLOWED, "Method not allowed; use " + allow + ".");
    }

    private Mono<Void> refuse(HttpServerResponse res, HttpResponseStatus status, String sentence) {
      StringBuilder b = new StringBuilder("{\"error\":");
      ViewJson.string(b, sentence).append('}');
      return json(res, status, b.toString());
    }

    private Mono<Void> json(HttpServerResponse res, HttpResponseStatus status, String body) {
      return res.status(status)
          .header(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8")
          .sendString(Mono.just(body), StandardCharsets.UTF_8)
          .then();
    }
  }

  /**
   * Whether {@code authority} ({@code host[:port]}, from {@code Host} or an origin) names this page:
   * {@code 127.0.0.1} or {@code localhost} on {@code port}, where a missing port is http's default
   * 80 (browsers leave {@code :80} out of both {@code Host} and {@code Origin}).
   */
  static boolean isLocalAuthority(String authority, int port) {
    String a = authority.toLowerCase(Locale.ROOT);
    int colon = a.lastIndexOf(':');
    String name = colon < 0 ? a : a.substring(0, colon);
    int given = 80;
    if (colon >= 0) {
      String digits = a.substring(colon + 1);
      if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return false;
      }
      given = Integer.parseInt(digits);
    }
    return (name.equals("127.0.0.1") || name.equals("localhost")) && given == port;
  }

  /** The page's files, read once from the class path. */
  static final class Resources {
    private static final ConcurrentMap<String, String> CACHE = new ConcurrentHashMap<>();

    private Resources() {
    }

    static String text(String name) {
      return CACHE.computeIfAbsent(name, n -> {
        try (InputStream in = WebStatusPage.class.getResourceAsStream(n)) {
          if (in == null) {
            throw new IllegalStateException("the jar lacks io/otaflux/ui/" + n);
          }
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }

    private static final Map<Character, String> HTML_ESCAPES =
        Map.of('&', "&amp;", '<', "&lt;", '>', "&gt;", '"', "&quot;", '\'', "&#39;");

    static String html(String s) {
      return Escapes.append(new StringBuilder(s.length() + 16), s, HTML_ESCAPES::get).toString();
    }
  }
}
