package io.otaflux.hawkbit;

import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaUpdater;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An Eclipse hawkBit Direct Device Integration (DDI) client: it polls the server as often as
 * {@code config.polling.sleep} says, installs the image of a {@code deploymentBase} through an
 * {@link OtaUpdater} (the application's {@link io.otaflux.spi.FirmwareSource}: its trust, pins,
 * resume) into the inactive slot, and tells hawkBit how it went. Success is reported only after
 * the new image was booted and marked good ({@link SlotStore#markGood()}), failure after a
 * fallback; the action waiting for that is kept in a file, so the answer survives a reboot.
 *
 * <pre>{@code
 * HawkbitClient client = HawkbitClient.builder()
 *     .server(URI.create("https://hawkbit.example.com"))     // DDI calls go here, and the token only here
 *     .tenant("DEFAULT")
 *     .controllerId("gw-0042")
 *     .targetToken(token)                                     // or gatewayToken(...)
 *     .sslContext(ssl)                                        // trust (and a client key for mutual TLS)
 *     .updater(OtaUpdater.create().source(httpsSource))       // every rule of `ota update` for artifacts
 *     .store(slotStore)
 *     .actionFile(slotsDir.resolve("hawkbit-action.properties"))
 *     .rebootHook(() -> reboot())
 *     .build();
 * client.events().subscribe(e -> log.info("{}", e));
 * client.start();                                             // returns at once
 * }</pre>
 *
 * <p>What it sends: {@code proceeding} when a download starts, {@code downloaded} once the image
 * is verified against hawkBit's SHA-256, {@code proceeding} when the slot is the trial boot
 * choice, then {@code closed} with {@code success} (marked good) or {@code failure} (fallback,
 * or a failed download with the sentence and the detail of its {@link OtaException}). A store
 * that refuses because a trial runs or a reboot is pending defers the action instead of failing
 * it. A {@code cancelAction} is accepted before activation and rejected after. Maintenance
 * windows and {@code update: skip} keep a downloaded image waiting. An action that asks for
 * consent ({@code confirmationBase}) asks the consent handler. The active slot's version and
 * label go to {@code configData}.
 *
 * <p><b>Threading:</b> one serial loop owns the state, so there is no lock to call out under;
 * polls and backoff wait on the timer scheduler, downloads, the consent handler and the reboot
 * hook run on the work scheduler. Schedulers the client made itself are disposed by
 * {@link #stop()}; injected ones are left to their owner.
 *
 * <p><b>Errors:</b> {@code build()} throws {@link OtaException} ({@code USAGE}) for an incomplete
 * configuration. Failures while running do not stop the client: a refused or unreachable poll is
 * a {@link HawkbitEvent.Failed} event and is tried again with backoff (never sooner than the
 * first backoff step, at least as late as a {@code Retry-After}).
 */
public final class HawkbitClient {

  private static final Logger log = LoggerFactory.getLogger(HawkbitClient.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Builder config;
  private final Sinks.Many<HawkbitEvent> events = Sinks.many().replay().limit(256);
  private final Object emitLock = new Object();
  private final Sinks.Many<Controller.Message> inbox = Sinks.many().unicast().onBackpressureBuffer();
  private final Object inboxLock = new Object();
  private final Scheduler timer;
  private final Scheduler work;
  private final boolean ownsTimer;
  private final boolean ownsWork;
  private final ExecutorService httpThreads;
  private final Controller controller;
  private volatile @Nullable Disposable loop;
  private volatile @Nullable Disposable nextPoll;
  private volatile boolean started;
  private volatile boolean stopped;

  private HawkbitClient(Builder b) {
    this.config = b;
    this.ownsTimer = b.timer == null;
    this.ownsWork = b.work == null;
    this.timer = b.timer != null ? b.timer : Schedulers.newSingle("otaflux-hawkbit-timer", true);
    this.work = b.work != null ? b.work : Schedulers.newBoundedElastic(4, 1000, "otaflux-hawkbit", 60, true);
    this.httpThreads = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "otaflux-hawkbit-http-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    HttpClient.Builder http = HttpClient.newBuilder().executor(httpThreads)
        .connectTimeout(b.requestTimeout).followRedirects(HttpClient.Redirect.NEVER);
    if (b.sslContext != null) {
      http.sslContext(b.sslContext);
    }
    URI server = Objects.requireNonNull(b.server);
    String proxy = null;
    String proxyAuthorization = null;
    if (b.proxy != null) {
      http.proxy(b.proxy);
      proxy = proxyOf(b.proxy, server);
      PasswordAuthentication login = b.proxyLogin;
      if (proxy != null && login != null) {
        proxyAuthorization = Credentials.basic(login.getUserName(), new String(login.getPassword())).authorization();
      }
    }
    Credentials token = b.token == null ? null : Credentials.token(b.gateway ? "GatewayToken" : "TargetToken", b.token);
    DdiApi api = new DdiApi(http.build(), server, b.tenant, b.controllerId, token, b.requestTimeout, proxy,
        proxyAuthorization);
    Backoff backoff = new Backoff(b.firstBackoff, b.maxBackoff, n -> ThreadLocalRandom.current().nextLong(n));
    this.controller = new Controller(api, Objects.requireNonNull(b.updater), Objects.requireNonNull(b.store),
        new ActionFile(b.actionFile), work, b.rebootHook, b.consent, this::emit, this::send, backoff);
  }

  /** {@code host:port} of the proxy {@code selector} picks for the server, or null for a direct connection. */
  private static @Nullable String proxyOf(ProxySelector selector, URI server) {
    for (Proxy p : selector.select(server)) {
      if (p.type() == Proxy.Type.HTTP && p.address() instanceof InetSocketAddress) {
        InetSocketAddress a = (InetSocketAddress) p.address();
        return a.getHostString() + ":" + a.getPort();
      }
    }
    return null;
  }

  /**
   * A builder with the defaults: tenant {@code DEFAULT}, requests bounded by 30 s, backoff after
   * failures from 5 s to 5 min.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts polling; returns at once. The action file is read at the first poll, so an update
   * marked good (or fallen back) while the client was not running is reported then.
   *
   * @throws OtaException reason {@code USAGE} when already started, or stopped (a client runs once)
   */
  public void start() {
    synchronized (this) {
      if (started || stopped) {
        throw OtaException.of(Detail.NOT_ALLOWED_NOW, "The hawkBit client for " + config.controllerId
            + (stopped ? " was stopped; build a new one." : " is running already."));
      }
      started = true;
    }
    loop = inbox.asFlux()
        .concatMap(message -> controller.handle(message)
            .doOnNext(this::pollIn)
            .onErrorResume(e -> {
              log.warn("hawkBit client: {}", e.toString());
              return Mono.empty();
            }), 1)
        .subscribe();
    send(new Controller.Poll());
  }

  /**
   * Stops polling and aborts a running download (the store stays as it was; the action is
   * downloaded again, resuming, at the next start). Disposes the schedulers the client made.
   */
  public void stop() {
    synchronized (this) {
      if (!started || stopped) {
        stopped = true;
        return;
      }
      stopped = true;
    }
    Disposable p = nextPoll;
    if (p != null) {
      p.dispose();
    }
    controller.abort();
    Disposable l = loop;
    if (l != null) {
      l.dispose();
    }
    httpThreads.shutdownNow();
    if (ownsTimer) {
      timer.dispose();
    }
    if (ownsWork) {
      work.dispose();
    }
  }

  /**
   * What the client does, from its start. Late subscribers see the last 256 events first.
   *
   * @return the events; the stream does not complete
   */
  public Flux<HawkbitEvent> events() {
    return events.asFlux();
  }

  /**
   * Polls now instead of at the next scheduled time (after a mark-good, say).
   */
  public void pollNow() {
    Disposable p = nextPoll;
    if (p != null) {
      p.dispose();
    }
    send(new Controller.Poll());
  }

  @Override
  public String toString() {
    return "HawkbitClient[" + config + "]";
  }

  private void pollIn(Duration delay) {
    if (stopped) {
      return;
    }
    // one chain of polls: a poll asked for meanwhile (pollNow) replaces the one scheduled
    Disposable previous = nextPoll;
    if (previous != null) {
      previous.dispose();
    }
    nextPoll = Mono.delay(delay, timer).subscribe(t -> send(new Controller.Poll()));
  }

  private void send(Controller.Message message) {
    if (stopped) {
      return;
    }
    synchronized (inboxLock) {
      inbox.tryEmitNext(message);
    }
  }

  private void emit(HawkbitEvent event) {
    synchronized (emitLock) {
      events.tryEmitNext(event);
    }
  }

  /**
   * How to build a {@link HawkbitClient}. Immutable and copy-on-write: every setter returns a new
   * builder, so one builder can be a template for many controllers.
   */
  public static final class Builder {
    private @Nullable URI server;
    private String tenant = "DEFAULT";
    private String controllerId = "";
    private @Nullable String token;
    private boolean gateway;
    private @Nullable SSLContext sslContext;
    private @Nullable ProxySelector proxy;
    private @Nullable PasswordAuthentication proxyLogin;
    private @Nullable OtaUpdater updater;
    private @Nullable SlotStore store;
    private @Nullable Path actionFile;
    private Runnable rebootHook = () -> { };
    private @Nullable Function<ConsentRequest, Mono<Boolean>> consent;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration firstBackoff = Duration.ofSeconds(5);
    private Duration maxBackoff = Duration.ofMinutes(5);
    private @Nullable Scheduler timer;
    private @Nullable Scheduler work;

    private Builder() {
    }

    private Builder copy(Consumer<Builder> change) {
      Builder b = new Builder();
      b.server = server;
      b.tenant = tenant;
      b.controllerId = controllerId;
      b.token = token;
      b.gateway = gateway;
      b.sslContext = sslContext;
      b.proxy = proxy;
      b.proxyLogin = proxyLogin;
      b.updater = updater;
      b.store = store;
      b.actionFile = actionFile;
      b.rebootHook = rebootHook;
      b.consent = consent;
      b.requestTimeout = requestTimeout;
      b.firstBackoff = firstBackoff;
      b.maxBackoff = maxBackoff;
      b.timer = timer;
      b.work = work;
      change.accept(b);
      return b;
    }

    /**
     * The hawkBit server, {@code https://HOST[:PORT]} (a path prefix is kept).
     *
     * @param uri the server
     * @return a new builder
     */
    public Builder server(URI uri) {
      Objects.requireNonNull(uri, "uri");
      return copy(b -> b.server = uri);
    }

    /**
     * The tenant (default {@code DEFAULT}).
     *
     * @param tenant the tenant
     * @return a new builder
     */
    public Builder tenant(String tenant) {
      Objects.requireNonNull(tenant, "tenant");
      return copy(b -> b.tenant = tenant);
    }

    /**
     * The controller id this device is known by in hawkBit.
     *
     * @param id the controller id
     * @return a new builder
     */
    public Builder controllerId(String id) {
      Objects.requireNonNull(id, "id");
      return copy(b -> b.controllerId = id);
    }

    /**
     * The target's security token ({@code Authorization: TargetToken}), sent only to the server's
     * origin, never logged.
     *
     * @param token the token
     * @return a new builder
     */
    public Builder targetToken(String token) {
      Objects.requireNonNull(token, "token");
      return copy(b -> {
        b.token = token;
        b.gateway = false;
      });
    }

    /**
     * The tenant's gateway token ({@code Authorization: GatewayToken}), sent only to the server's
     * origin, never logged.
     *
     * @param token the token
     * @return a new builder
     */
    public Builder gatewayToken(String token) {
      Objects.requireNonNull(token, "token");
      return copy(b -> {
        b.token = token;
        b.gateway = true;
      });
    }

    /**
     * The TLS settings of the DDI calls: the trust managers decide which server is trusted, and
     * key managers with a client key give mutual TLS. Default: the JDK's.
     *
     * @param context the context
     * @return a new builder
     */
    public Builder sslContext(SSLContext context) {
      Objects.requireNonNull(context, "context");
      return copy(b -> b.sslContext = context);
    }

    /**
     * The DDI calls go through the HTTP proxy {@code selector} picks for the server (by
     * {@code CONNECT}: TLS, trust and the client key stay end to end), with {@code credentials}
     * sent to the proxy only, never logged. Artifacts go the way the updater's source goes: give
     * it the same proxy. Default: the JDK's default selector is not used; connections are direct.
     *
     * <p>The JDK sends Basic credentials on a tunnel only when the system property
     * {@code jdk.http.auth.tunneling.disabledSchemes} does not name {@code Basic} (by default it
     * does): set it to an empty value before the JVM's first {@code HttpClient} request, as
     * {@code ota hawkbit} does.
     *
     * @param selector chooses the proxy (or none) for the server; e.g. {@code JdkProxy.selector()} of the transport
     * @param credentials the proxy's user and password, or null for none
     * @return a new builder
     */
    public Builder proxy(ProxySelector selector, @Nullable PasswordAuthentication credentials) {
      Objects.requireNonNull(selector, "selector");
      return copy(b -> {
        b.proxy = selector;
        b.proxyLogin = credentials;
      });
    }

    /**
     * The updater that downloads artifacts: its source (trust, pins, resume), retries and
     * schedulers. Its store is replaced by {@link #store(SlotStore)}'s.
     *
     * @param updater the updater
     * @return a new builder
     */
    public Builder updater(OtaUpdater updater) {
      Objects.requireNonNull(updater, "updater");
      return copy(b -> b.updater = updater);
    }

    /**
     * The slot store images go into, and whose state decides success and failure.
     *
     * @param store the store
     * @return a new builder
     */
    public Builder store(SlotStore store) {
      Objects.requireNonNull(store, "store");
      return copy(b -> b.store = store);
    }

    /**
     * Where the action waiting for mark-good is kept (beside the store), so its success or
     * failure is reported after a reboot. Without it, only while the client runs.
     *
     * @param file a file the client owns
     * @return a new builder
     */
    public Builder actionFile(Path file) {
      Objects.requireNonNull(file, "file");
      return copy(b -> b.actionFile = file);
    }

    /**
     * What runs after a slot was made the trial boot choice: a real gateway reboots here.
     *
     * @param hook the hook; it runs on the work scheduler
     * @return a new builder
     */
    public Builder rebootHook(Runnable hook) {
      Objects.requireNonNull(hook, "hook");
      return copy(b -> b.rebootHook = hook);
    }

    /**
     * Who answers an action that needs the user's consent: the function's {@code Mono} gives true
     * (consent) or false (declined), whenever the user has decided. Without it such an action
     * waits for a consent given on the server.
     *
     * @param handler the consent handler
     * @return a new builder
     */
    public Builder consent(Function<ConsentRequest, Mono<Boolean>> handler) {
      Objects.requireNonNull(handler, "handler");
      return copy(b -> b.consent = handler);
    }

    /**
     * How long a DDI request may take, connection included (default 30 s).
     *
     * @param timeout the timeout
     * @return a new builder
     */
    public Builder requestTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      return copy(b -> b.requestTimeout = timeout);
    }

    /**
     * The backoff after failed polls: from {@code first}, doubling with jitter, up to {@code max}.
     *
     * @param first the first delay
     * @param max the longest delay
     * @return a new builder
     */
    public Builder backoff(Duration first, Duration max) {
      Objects.requireNonNull(first, "first");
      Objects.requireNonNull(max, "max");
      return copy(b -> {
        b.firstBackoff = first;
        b.maxBackoff = max;
      });
    }

    /**
     * The scheduler that keeps time between polls. Default: a single daemon thread of the client's own,
     * disposed by {@link HawkbitClient#stop()}.
     *
     * @param timer the scheduler (not disposed by the client)
     * @return a new builder
     */
    public Builder timer(Scheduler timer) {
      Objects.requireNonNull(timer, "timer");
      return copy(b -> b.timer = timer);
    }

    /**
     * Where downloads start, the consent handler and the reboot hook run, and the action file is
     * written. Default: a bounded-elastic scheduler of the client's own, disposed by
     * {@link HawkbitClient#stop()}.
     *
     * @param work the scheduler (not disposed by the client)
     * @return a new builder
     */
    public Builder workScheduler(Scheduler work) {
      Objects.requireNonNull(work, "work");
      return copy(b -> b.work = work);
    }

    /**
     * Builds the client (nothing is sent before {@link HawkbitClient#start()}).
     *
     * @return the client
     * @throws OtaException reason {@code USAGE} when the server, controller id, updater or store is
     *     missing, or the server is not {@code https:}
     */
    public HawkbitClient build() {
      if (server == null || controllerId.isBlank() || tenant.isBlank() || updater == null || store == null) {
        throw OtaException.of(Detail.INVALID_REQUEST, "A hawkBit client needs a server URL, a tenant, a controller "
            + "id, an updater and a slot store.");
      }
      String scheme = server.getScheme() == null ? "" : server.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("https") || server.getHost() == null) {
        throw OtaException.of(Detail.NOT_HTTPS, "The hawkBit server must be an https:// URL, not \"" + server
            + "\": the token and the images travel over it.");
      }
      if (server.getRawUserInfo() != null) {
        throw OtaException.of(Detail.INVALID_REQUEST, "Give the hawkBit server without user-info; use a target "
            + "or gateway token.");
      }
      if (requestTimeout.isZero() || requestTimeout.isNegative() || firstBackoff.isZero()
          || firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
        throw OtaException.of(Detail.INVALID_REQUEST, "The request timeout and the backoff must be positive, the "
            + "longest backoff at least the first.");
      }
      return new HawkbitClient(this);
    }

    @Override
    public String toString() {
      return "server=" + server + ", tenant=" + tenant + ", controllerId=" + controllerId
          + (token == null ? "" : gateway ? ", gateway-token=<redacted>" : ", target-token=<redacted>")
          + (proxy == null ? "" : ", proxy" + (proxyLogin == null ? "" : " (with credentials)"));
    }
  }
}
