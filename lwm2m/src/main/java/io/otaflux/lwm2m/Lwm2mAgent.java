package io.otaflux.lwm2m;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.spi.SlotStore;

import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.leshan.client.LeshanClient;
import org.eclipse.leshan.client.LeshanClientBuilder;
import org.eclipse.leshan.client.californium.endpoint.CaliforniumClientEndpointFactory;
import org.eclipse.leshan.client.californium.endpoint.CaliforniumClientEndpointsProvider;
import org.eclipse.leshan.client.californium.endpoint.coap.CoapClientProtocolProvider;
import org.eclipse.leshan.client.californium.endpoint.coaps.CoapsClientEndpointFactory;
import org.eclipse.leshan.client.californium.endpoint.coaps.CoapsClientProtocolProvider;
import org.eclipse.leshan.client.engine.DefaultRegistrationEngineFactory;
import org.eclipse.leshan.client.object.Security;
import org.eclipse.leshan.client.object.Server;
import org.eclipse.leshan.client.observer.LwM2mClientObserverAdapter;
import org.eclipse.leshan.client.resource.BaseInstanceEnablerFactory;
import org.eclipse.leshan.client.resource.LwM2mInstanceEnabler;
import org.eclipse.leshan.client.resource.LwM2mObjectEnabler;
import org.eclipse.leshan.client.resource.ObjectsInitializer;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.LwM2mId;
import org.eclipse.leshan.core.ResponseCode;
import org.eclipse.leshan.core.model.ObjectLoader;
import org.eclipse.leshan.core.model.StaticModel;
import org.eclipse.leshan.core.request.DeregisterRequest;
import org.eclipse.leshan.core.request.RegisterRequest;
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
 * An OMA LwM2M 1.1 client that a device-management server (Eclipse Leshan, or any LwM2M server)
 * drives to update this device's firmware: Object 5 (Firmware Update, pull over HTTPS) over an
 * {@link OtaUpdater}, and Object 3 (Device).
 *
 * <pre>{@code
 * Lwm2mAgent agent = Lwm2mAgent.builder()
 *     .server(URI.create("coaps://dm.example.com:5684"))   // DTLS with a pre-shared key
 *     .endpoint("gw-0042")
 *     .psk("gw-0042", key)                                  // the key never appears in a log
 *     .updater(OtaUpdater.create().source(httpsSource))     // every rule of `ota update`
 *     .store(slotStore)
 *     .pendingFile(slotsDir.resolve("lwm2m-agent.properties"))
 *     .rebootHook(() -> reboot())
 *     .build();
 * agent.events().subscribe(e -> log.info("{}", e));
 * agent.start();
 * }</pre>
 *
 * <p>The server writes the Package URI ({@code /5/0/1}): the image (or, for a URL ending in
 * {@code .json}, the signed manifest's image) is downloaded into the inactive slot and verified but
 * not activated (State 1, then 2). Executing Update ({@code /5/0/2}) makes it the trial boot choice
 * and runs the reboot hook (State 3, then 0). Update Result becomes 1 once the slot is confirmed
 * ({@link SlotStore#markGood()}), seen by the running agent or at its next start, and 8 when it is
 * rolled back; a failed download sets the code its {@link FirmwareResult} constant names.
 *
 * <p><b>Threading:</b> requests from the server are answered at once on Californium's threads;
 * downloads, activation, the reboot hook and the store polling run on Reactor schedulers, given
 * to the builder or the agent's own (ended by {@link #stop()}). {@link #startAsync()} does not
 * block; {@link #start()} waits only for the store to be read (registration goes on in the
 * background, reported by {@link #events()}); {@link #stop()}
 * blocks until the running download is aborted, a registration in flight has its answer, and the
 * deregistration is answered (each bounded by the request timeout). It emits
 * {@link AgentEvent.Deregistered} only when the server answered the deregistration, else
 * {@link AgentEvent.DeregistrationFailed}.
 *
 * <p><b>Errors:</b> {@link #builder()}'s {@code build()} throws {@link OtaException} with reason
 * {@code USAGE} for an incomplete or insecure configuration. Failures while running do not stop
 * the agent: they are {@link AgentEvent.Failed} events, and the Update Result tells the server.
 */
public final class Lwm2mAgent {

  private static final Logger log = LoggerFactory.getLogger(Lwm2mAgent.class);
  private static final int SHORT_SERVER_ID = 1;

  private final Builder config;
  /** Downloads, activation, the reboot hook: the builder's, or the agent's own (disposed on stop). */
  private final Scheduler work;
  /** Store polling and registration backoff: the builder's, the shared executor, or the agent's own. */
  private final Scheduler timer;
  /** The schedulers this agent made, disposed by {@link #stop()}. */
  private final List<Scheduler> owned = new ArrayList<>();
  private final LeshanClient client;
  private final FirmwareUpdates firmware;
  private final DeviceObject device;
  private final Sinks.Many<AgentEvent> sink = Sinks.many().replay().limit(256);
  /** Events go to the subscribers one at a time, in order, with no lock held. */
  private final Outbox<AgentEvent> outbox = new Outbox<>(sink::tryEmitNext);
  /** Completes when {@link #startAsync()} has started the client (or gave up). */
  private final CompletableFuture<Void> launched = new CompletableFuture<>();
  private final AtomicInteger failures = new AtomicInteger();
  private volatile @Nullable Disposable poller;
  private volatile @Nullable Disposable retry;
  private volatile boolean started;
  private volatile boolean stopped;
  /** Completes when the registration in flight (if any) has its answer, or gave up. */
  private volatile CompletableFuture<Void> registering = CompletableFuture.completedFuture(null);
  /** How the deregistration sent by {@link #stop()} ended: null until it did. */
  private final AtomicReference<@Nullable String> deregistration = new AtomicReference<>();

  private Lwm2mAgent(Builder b) {
    this.config = b;
    Consumer<AgentEvent> emit = this::emit;
    Runnable hook = b.rebootHook;
    this.work = b.work != null ? b.work : own(workScheduler(b.endpoint));
    this.timer = b.timer != null ? b.timer
        : b.executor != null ? Schedulers.fromExecutorService(b.executor, "otaflux-lwm2m-shared")
        : own(timerScheduler(b.endpoint));
    OtaUpdater updater = Objects.requireNonNull(b.updater);
    SlotStore store = Objects.requireNonNull(b.store);
    this.device = new DeviceObject(b.manufacturer, b.model, b.endpoint, hook, work);
    this.firmware = new FirmwareUpdates(updater, store, b.manifests, b.allowDowngrade, b.pendingFile, work, hook,
        emit, this::showVersion);
    this.client = leshanClient(b, new FirmwareUpdateObject(firmware));
  }

  private Scheduler own(Scheduler scheduler) {
    owned.add(scheduler);
    return scheduler;
  }

  /**
   * The agent's own work threads when none is given: up to 4 daemon threads named
   * {@code otaflux-lwm2m-ENDPOINT-N}, made on demand and ended after a minute idle, so an idle
   * agent holds none.
   */
  private static Scheduler workScheduler(String endpoint) {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        daemonThreads("otaflux-lwm2m-" + endpoint + "-"));
    pool.allowCoreThreadTimeOut(true);
    return Schedulers.fromExecutorService(pool, "otaflux-lwm2m-work");
  }

  /** The agent's own timer when none is given (and no shared executor): one daemon thread. */
  private static Scheduler timerScheduler(String endpoint) {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
        daemonThreads("otaflux-lwm2m-" + endpoint + "-timer-"));
    timer.setRemoveOnCancelPolicy(true);
    return Schedulers.fromExecutorService(timer, "otaflux-lwm2m-timer");
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * A builder with the defaults: {@code coaps} only, a lifetime of 300 s, a request timeout of
   * 30 s, re-registration backoff from 1 s to 5 min, the store polled for confirmation every 5 s.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  private LeshanClient leshanClient(Builder b, FirmwareUpdateObject firmware) {
    URI server = Objects.requireNonNull(b.server);
    boolean secure = "coaps".equals(server.getScheme());
    ObjectsInitializer init = new ObjectsInitializer(Models.MODEL);
    byte[] identity = b.pskIdentity == null ? new byte[0] : b.pskIdentity.getBytes(StandardCharsets.UTF_8);
    init.setInstancesForObject(LwM2mId.SECURITY, secure
        ? Security.psk(server.toString(), SHORT_SERVER_ID, identity, Objects.requireNonNull(b.pskKey).clone())
        : Security.noSec(server.toString(), SHORT_SERVER_ID));
    init.setInstancesForObject(LwM2mId.SERVER, new Server(SHORT_SERVER_ID, b.lifetime.toSeconds()));
    // single-instance objects without a no-argument constructor: Leshan wants a factory as well
    init.setFactoryForObject(LwM2mId.DEVICE, singleton(device));
    init.setFactoryForObject(LwM2mId.FIRMWARE, singleton(firmware));
    init.setInstancesForObject(LwM2mId.DEVICE, device);
    init.setInstancesForObject(LwM2mId.FIRMWARE, firmware);
    List<LwM2mObjectEnabler> enablers = init.create(LwM2mId.SECURITY, LwM2mId.SERVER, LwM2mId.DEVICE,
        LwM2mId.FIRMWARE);

    ScheduledExecutorService coap = b.coapExecutor;
    CaliforniumClientEndpointsProvider.Builder endpoints = secure
        ? new CaliforniumClientEndpointsProvider.Builder(coap == null ? new CoapsClientProtocolProvider()
            : new SharedDtls(coap))
        : new CaliforniumClientEndpointsProvider.Builder(new CoapClientProtocolProvider());
    Configuration cf = endpoints.createDefaultConfiguration();
    if (secure) {
      // a lost handshake is retried a few times, not for a minute: registration has its own backoff
      cf.set(DtlsConfig.DTLS_RETRANSMISSION_TIMEOUT, Math.max(200, b.requestTimeout.toMillis() / 8),
          java.util.concurrent.TimeUnit.MILLISECONDS);
      cf.set(DtlsConfig.DTLS_MAX_RETRANSMISSIONS, 3);
    }
    endpoints.setConfiguration(cf);
    if (b.localAddress != null) {
      endpoints.setClientAddress(b.localAddress);
    }
    CaliforniumClientEndpointsProvider provider = endpoints.build();

    LeshanClientBuilder builder = new LeshanClientBuilder(b.endpoint);
    builder.setObjects(enablers);
    builder.setEndpointsProviders(provider);
    builder.setRegistrationEngineFactory(new DefaultRegistrationEngineFactory()
        .setRequestTimeoutInMs(b.requestTimeout.toMillis())
        .setDeregistrationTimeoutInMs(Math.min(b.requestTimeout.toMillis(), 3_000))
        // Leshan retries after a fixed wait; our observer restarts it sooner, with backoff
        .setRetryWaitingTimeInMs((int) Math.min(Integer.MAX_VALUE, b.maxBackoff.toMillis())));
    if (b.executor != null) {
      builder.setSharedExecutor(b.executor);
    }
    LeshanClient c = builder.build();
    if (coap != null) {
      // the CoAP stack's protocol stage and timers run on the shared executor, not on ~3 threads per agent;
      // detached: destroying this agent's client leaves it running for the others
      provider.getCoapServer().setExecutors(coap, coap, true);
    }
    c.addObserver(new Observer());
    return c;
  }

  /** coaps whose DTLS connector runs its handshakes and timers on the shared executor. */
  private static final class SharedDtls extends CoapsClientProtocolProvider {
    private final ScheduledExecutorService executor;

    SharedDtls(ScheduledExecutorService executor) {
      this.executor = executor;
    }

    @Override
    public CaliforniumClientEndpointFactory createDefaultEndpointFactory() {
      return new CoapsClientEndpointFactory() {
        @Override
        protected Connector createSecuredConnector(DtlsConnectorConfig dtls) {
          DTLSConnector connector = new DTLSConnector(dtls);
          connector.setExecutor(executor); // not its own: it leaves a given executor running when destroyed
          return connector;
        }
      };
    }
  }

  private static BaseInstanceEnablerFactory singleton(LwM2mInstanceEnabler instance) {
    return new BaseInstanceEnablerFactory() {
      @Override
      public LwM2mInstanceEnabler create() {
        return instance;
      }
    };
  }

  /**
   * Registers with the server and serves its requests until {@link #stop()}: {@link #startAsync()},
   * waited for. Reads the store first, so {@link #result()} shows an update confirmed (or rolled
   * back) while the agent was not running (Update Result 1 or 8) when this returns.
   *
   * @throws OtaException reason {@code USAGE} when already started, or stopped (an agent runs once)
   */
  public void start() {
    startAsync().block();
  }

  /**
   * Starts the agent without blocking: reads the store (bounded by 30 s; an update confirmed or
   * rolled back while the agent was not running gives Update Result 1 or 8), then starts the
   * LwM2M client, whose registration goes on in the background and is reported by
   * {@link #events()} ({@link AgentEvent.Registered}, or {@link AgentEvent.Failed} and a retry with
   * backoff). Nothing happens until the Mono is subscribed.
   *
   * @return completes once the client was started; fails with {@link OtaException} reason
   *     {@code USAGE} when the agent was started already, or stopped (an agent runs once)
   */
  public Mono<Void> startAsync() {
    return Mono.defer(() -> {
      synchronized (this) {
        if (started || stopped) {
          return Mono.error(OtaException.of(Reason.USAGE, "The agent " + config.endpoint + (stopped
              ? " was stopped; build a new one to register again." : " is running already.")));
        }
        started = true;
      }
      refreshVersion();
      return firmware.checkPending()
          .timeout(Duration.ofSeconds(30), timer)
          .onErrorResume(e -> {
            log.warn("Reading the store for the pending update failed: {}", e.toString());
            return Mono.empty();
          })
          .then(Mono.<Void>fromRunnable(this::launch))
          .doFinally(signal -> launched.complete(null));
    });
  }

  /** Polls the store and starts the client, unless the agent was stopped meanwhile. */
  private void launch() {
    if (stopped) {
      return;
    }
    poller = Flux.interval(config.confirmEvery, config.confirmEvery, timer)
        .onBackpressureDrop()
        .concatMap(tick -> firmware.checkPending().then(versionNow())
            .onErrorResume(e -> {
              log.debug("Polling the store failed: {}", e.toString());
              return Mono.empty();
            }), 1)
        .subscribe();
    client.start();
  }

  /**
   * Aborts a running download, deregisters (bounded by the request timeout) and stops serving.
   * Downloaded but not activated images and pending confirmations are kept for the next start.
   */
  public void stop() {
    synchronized (this) {
      if (!started) {
        return;
      }
      started = false;
      stopped = true;
    }
    try {
      launched.get(35, TimeUnit.SECONDS); // a start in flight first: it would start the client after this
    } catch (TimeoutException | ExecutionException e) {
      log.debug("The start in flight did not end in time: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Disposable r = retry;
    if (r != null) {
      r.dispose();
    }
    Disposable p = poller;
    if (p != null) {
      p.dispose();
    }
    firmware.abortDownload();
    // a registration whose answer is on its way is finished first: destroying the client would drop
    // the answer, and the server would keep a registration the client never deregisters
    try {
      registering.get(config.requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      log.debug("The registration in flight did not end in time: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean registered = !client.getRegisteredServers().isEmpty();
    deregistration.set(null);
    client.destroy(true); // sends the deregistration and waits for its answer (bounded)
    String outcome = deregistration.get();
    if (registered && DEREGISTERED.equals(outcome)) {
      emit(new AgentEvent.Deregistered(config.endpoint));
    } else {
      String why = !registered ? "it was not registered" : outcome == null ? "the deregistration could not be sent"
          : outcome;
      log.warn("{} stopped without deregistering from {}: {}", config.endpoint, config.server, why);
      emit(new AgentEvent.DeregistrationFailed(config.endpoint, "The agent stopped without deregistering from "
          + config.server + ": " + why + "; the server lists the device until its registration lifetime ("
          + config.lifetime.toSeconds() + " s) ends."));
    }
    owned.forEach(Scheduler::dispose);
  }

  private static final String DEREGISTERED = "deregistered";

  /**
   * What the agent does, from its start: registrations, State and Update Result changes, failures.
   * Late subscribers see the last 256 events first.
   *
   * @return the events; the stream does not complete (an agent runs once: start, then stop)
   */
  public Flux<AgentEvent> events() {
    return sink.asFlux();
  }

  /**
   * The Firmware Update State now.
   *
   * @return the state
   */
  public FirmwareState state() {
    return firmware.now().state();
  }

  /**
   * The Update Result now.
   *
   * @return the result
   */
  public FirmwareResult result() {
    return firmware.now().result();
  }

  /**
   * The endpoint name the agent registers as.
   *
   * @return the name
   */
  public String endpoint() {
    return config.endpoint;
  }

  /**
   * The server this agent registers with.
   *
   * @return the server's URI
   */
  public URI server() {
    return Objects.requireNonNull(config.server);
  }

  @Override
  public String toString() {
    return "Lwm2mAgent[" + config + "]";
  }

  private void emit(AgentEvent event) {
    outbox.send(event);
  }

  /** Shows the active slot's version; on the store's threads (a slot store does not block its caller). */
  private void refreshVersion() {
    versionNow().onErrorResume(e -> Mono.empty()).subscribe();
  }

  private Mono<Void> versionNow() {
    SlotStore store = Objects.requireNonNull(config.store);
    return store.status().doOnNext(this::showVersion).then();
  }

  private void showVersion(StoreStatus status) {
    SlotStatus active = status.slot(status.active());
    device.firmwareVersion(active.version() == null ? "" : active.version());
  }

  /** Backoff for registration: 1 s, 2 s, 4 s ... up to the maximum, with jitter. */
  private void registrationFailed(String why) {
    int n = failures.incrementAndGet();
    emit(new AgentEvent.Failed("Registration with " + config.server + " failed: " + why
        + "; trying again with backoff.", null));
    long base = config.firstBackoff.toMillis() << Math.min(20, n - 1);
    long delay = Math.min(config.maxBackoff.toMillis(), base);
    delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    Disposable previous = retry;
    if (previous != null && !previous.isDisposed()) {
      return;
    }
    log.info("Registration of {} failed ({}); trying again in {} ms", config.endpoint, why, delay);
    retry = Mono.delay(Duration.ofMillis(delay), timer).publishOn(work).subscribe(t -> {
      if (started) {
        client.stop(false);
        if (started) {
          client.start();
        }
      }
    });
  }

  /** Leshan's callbacks, turned into events. */
  private final class Observer extends LwM2mClientObserverAdapter {
    @Override
    public void onRegistrationStarted(LwM2mServer server, RegisterRequest request) {
      registering = new CompletableFuture<>();
    }

    @Override
    public void onRegistrationSuccess(LwM2mServer server, RegisterRequest request, String registrationId) {
      registering.complete(null);
      failures.set(0);
      log.info("{} registered with {} as {}", config.endpoint, config.server, registrationId);
      emit(new AgentEvent.Registered(config.endpoint, registrationId));
    }

    @Override
    public void onRegistrationFailure(LwM2mServer server, RegisterRequest request, @Nullable ResponseCode code,
        @Nullable String message, @Nullable Exception cause) {
      registering.complete(null);
      registrationFailed(code != null ? "the server answered " + code + (message == null ? "" : " (" + message + ")")
          : cause != null ? cause.toString() : "unknown error");
    }

    @Override
    public void onRegistrationTimeout(LwM2mServer server, RegisterRequest request) {
      registering.complete(null);
      registrationFailed("no answer within " + config.requestTimeout.toMillis() + " ms");
    }

    @Override
    public void onDeregistrationSuccess(LwM2mServer server, DeregisterRequest request) {
      log.info("{} deregistered", config.endpoint);
      deregistration.set(DEREGISTERED);
    }

    @Override
    public void onDeregistrationFailure(LwM2mServer server, DeregisterRequest request, @Nullable ResponseCode code,
        @Nullable String message, @Nullable Exception cause) {
      deregistration.set(code != null ? "the server answered the deregistration with " + code
          + (message == null ? "" : " (" + message + ")")
          : "the deregistration could not be sent (" + (cause == null ? "unknown error" : cause.toString()) + ")");
    }

    @Override
    public void onDeregistrationTimeout(LwM2mServer server, DeregisterRequest request) {
      deregistration.set("the server did not answer the deregistration within "
          + Math.min(config.requestTimeout.toMillis(), 3_000) + " ms");
    }

    @Override
    public void onUnexpectedError(Throwable error) {
      emit(new AgentEvent.Failed("The LwM2M client failed: " + error, null));
    }
  }

  /** One parse of the embedded object models, shared by every agent (~10 ms each otherwise). */
  private static final class Models {
    static final StaticModel MODEL = new StaticModel(ObjectLoader.loadDefault());
  }

  /**
   * How to build an {@link Lwm2mAgent}. Immutable and copy-on-write: every setter returns a new
   * builder, so one builder can be a template for a fleet.
   */
  public static final class Builder {
    private @Nullable URI server;
    private String endpoint = "";
    private @Nullable String pskIdentity;
    private byte @Nullable [] pskKey;
    private boolean insecureCoap;
    private @Nullable OtaUpdater updater;
    private @Nullable SlotStore store;
    private @Nullable ManifestUpdater manifests;
    private boolean allowDowngrade;
    private Runnable rebootHook = () -> { };
    private @Nullable Path pendingFile;
    private Duration lifetime = Duration.ofSeconds(300);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration firstBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofMinutes(5);
    private Duration confirmEvery = Duration.ofSeconds(5);
    private @Nullable Scheduler timer;
    private @Nullable Scheduler work;
    private @Nullable ScheduledExecutorService executor;
    private @Nullable ScheduledExecutorService coapExecutor;
    private @Nullable InetAddress localAddress;
    private String manufacturer = "OtaFlux";
    private String model = "otaflux-gateway";

    private Builder() {
    }

    private Builder copy(Consumer<Builder> change) {
      Builder b = new Builder();
      b.server = server;
      b.endpoint = endpoint;
      b.pskIdentity = pskIdentity;
      b.pskKey = pskKey;
      b.insecureCoap = insecureCoap;
      b.updater = updater;
      b.store = store;
      b.manifests = manifests;
      b.allowDowngrade = allowDowngrade;
      b.rebootHook = rebootHook;
      b.pendingFile = pendingFile;
      b.lifetime = lifetime;
      b.requestTimeout = requestTimeout;
      b.firstBackoff = firstBackoff;
      b.maxBackoff = maxBackoff;
      b.confirmEvery = confirmEvery;
      b.timer = timer;
      b.work = work;
      b.executor = executor;
      b.coapExecutor = coapExecutor;
      b.localAddress = localAddress;
      b.manufacturer = manufacturer;
      b.model = model;
      change.accept(b);
      return b;
    }

    /**
     * The LwM2M server: {@code coaps://HOST:PORT} (DTLS with a pre-shared key) or
     * {@code coap://HOST:PORT} (no security: only with {@link #allowInsecureCoap(boolean)}).
     *
     * @param uri the server's URI
     * @return a new builder
     */
    public Builder server(URI uri) {
      Objects.requireNonNull(uri, "uri");
      return copy(b -> b.server = uri);
    }

    /**
     * The endpoint name the agent registers as; also the Device's serial number.
     *
     * @param name the endpoint name
     * @return a new builder
     */
    public Builder endpoint(String name) {
      Objects.requireNonNull(name, "name");
      return copy(b -> b.endpoint = name);
    }

    /**
     * The DTLS pre-shared key. The key is copied, and never logged or shown by {@link #toString()}.
     *
     * @param identity the PSK identity
     * @param key the key bytes
     * @return a new builder
     */
    public Builder psk(String identity, byte[] key) {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(key, "key");
      byte[] copy = key.clone();
      return copy(b -> {
        b.pskIdentity = identity;
        b.pskKey = copy;
      });
    }

    /**
     * Allows a plain {@code coap://} server (no security, for a lab). Off by default.
     *
     * @param allow whether plain CoAP is allowed
     * @return a new builder
     */
    public Builder allowInsecureCoap(boolean allow) {
      return copy(b -> b.insecureCoap = allow);
    }

    /**
     * The Device object's manufacturer and model number.
     *
     * @param manufacturer resource 0
     * @param model resource 1
     * @return a new builder
     */
    public Builder device(String manufacturer, String model) {
      Objects.requireNonNull(manufacturer, "manufacturer");
      Objects.requireNonNull(model, "model");
      return copy(b -> b.manufacturer = manufacturer).copy(b -> b.model = model);
    }

    /**
     * The updater that downloads images: its source, retries and schedulers. Its store is replaced
     * by {@link #store(SlotStore)}'s.
     *
     * @param updater a configured updater
     * @return a new builder
     */
    public Builder updater(OtaUpdater updater) {
      Objects.requireNonNull(updater, "updater");
      return copy(b -> b.updater = updater);
    }

    /**
     * The slot store the images go into, and whose status the agent reports.
     *
     * @param store the store
     * @return a new builder
     */
    public Builder store(SlotStore store) {
      Objects.requireNonNull(store, "store");
      return copy(b -> b.store = store);
    }

    /**
     * How Package URIs ending in {@code .json} are fetched and verified: a signed manifest's source
     * and trusted keys, and its downgrade policy ({@link ManifestUpdater#allowDowngrade}, or
     * {@link #allowDowngrade} here). Credentials in the Package URI's user-info go to the image only
     * when it has the manifest's origin. Without it such a URI fails with Update Result 7.
     *
     * @param manifests the manifest updater (its store should be this agent's)
     * @return a new builder
     */
    public Builder manifests(ManifestUpdater manifests) {
      Objects.requireNonNull(manifests, "manifests");
      return copy(b -> b.manifests = manifests);
    }

    /**
     * Accepts a manifest whose version is lower than the installed one (refused by default, Update
     * Result 8, unless the {@link #manifests manifest updater} allows downgrades itself).
     *
     * @param allow whether downgrades are allowed
     * @return a new builder
     */
    public Builder allowDowngrade(boolean allow) {
      return copy(b -> b.allowDowngrade = allow);
    }

    /**
     * What runs after Update made the trial slot the boot choice, and on the Device's Reboot: a
     * real gateway reboots here. Runs on a Reactor scheduler, never on Californium's threads.
     *
     * @param hook the hook
     * @return a new builder
     */
    public Builder rebootHook(Runnable hook) {
      Objects.requireNonNull(hook, "hook");
      return copy(b -> b.rebootHook = hook);
    }

    /**
     * Where an executed update waiting for confirmation is remembered (beside the store), so Update
     * Result 1 or 8 is reported after a restart too. Without it, only while the agent runs.
     *
     * @param file a file the agent owns
     * @return a new builder
     */
    public Builder pendingFile(Path file) {
      Objects.requireNonNull(file, "file");
      return copy(b -> b.pendingFile = file);
    }

    /**
     * The registration lifetime (default 300 s): the agent updates its registration before it ends.
     *
     * @param lifetime at least 1 s
     * @return a new builder
     */
    public Builder lifetime(Duration lifetime) {
      Objects.requireNonNull(lifetime, "lifetime");
      return copy(b -> b.lifetime = lifetime);
    }

    /**
     * How long a registration request waits for the server's answer (default 30 s).
     *
     * @param timeout the timeout
     * @return a new builder
     */
    public Builder requestTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      return copy(b -> b.requestTimeout = timeout);
    }

    /**
     * The backoff between failed registrations: from {@code first}, doubling (with jitter) up to
     * {@code max}.
     *
     * @param first the first delay
     * @param max the longest delay
     * @return a new builder
     */
    public Builder registrationBackoff(Duration first, Duration max) {
      Objects.requireNonNull(first, "first");
      Objects.requireNonNull(max, "max");
      return copy(b -> {
        b.firstBackoff = first;
        b.maxBackoff = max;
      });
    }

    /**
     * How often the store is read to see an executed update confirmed or rolled back (default 5 s).
     *
     * @param interval the interval
     * @return a new builder
     */
    public Builder confirmEvery(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      return copy(b -> b.confirmEvery = interval);
    }

    /**
     * The scheduler that keeps time: store polling and registration backoff. Not disposed by the
     * agent. Default: the {@link #sharedExecutor(ScheduledExecutorService) shared executor} if
     * there is one, else a thread of the agent's own, ended by {@link Lwm2mAgent#stop()}.
     *
     * @param timer the scheduler
     * @return a new builder
     */
    public Builder timer(Scheduler timer) {
      Objects.requireNonNull(timer, "timer");
      return copy(b -> b.timer = timer);
    }

    /**
     * Where downloads start, the slot is activated and the reboot hook runs. Not disposed by the
     * agent. Default: the agent's own, up to 4 daemon threads named {@code otaflux-lwm2m-ENDPOINT-N}
     * made on demand (none while idle), ended by {@link Lwm2mAgent#stop()}.
     *
     * @param work the scheduler
     * @return a new builder
     */
    public Builder workScheduler(Scheduler work) {
      Objects.requireNonNull(work, "work");
      return copy(b -> b.work = work);
    }

    /**
     * An executor shared by many agents in one JVM: Leshan's registration engine and notifications,
     * and the agent's timer, use it instead of threads of their own. Leshan blocks one of its
     * threads for each registration in flight. Not shut down by the agent.
     *
     * @param executor the shared executor
     * @return a new builder
     */
    public Builder sharedExecutor(ScheduledExecutorService executor) {
      Objects.requireNonNull(executor, "executor");
      return copy(b -> b.executor = executor);
    }

    /**
     * An executor shared by many agents in one JVM for Californium, the CoAP and DTLS stack under
     * Leshan (protocol stage, timers, handshakes): without it each {@code coaps} agent keeps about 5
     * threads of its own, with it one (its socket's receiver). Its tasks never block; do not give
     * the {@link #sharedExecutor(ScheduledExecutorService) shared executor} here, whose threads
     * Leshan blocks while it registers. Not shut down by the agent.
     *
     * @param executor the executor
     * @return a new builder
     */
    public Builder coapExecutor(ScheduledExecutorService executor) {
      Objects.requireNonNull(executor, "executor");
      return copy(b -> b.coapExecutor = executor);
    }

    /**
     * The local address the CoAP socket binds to (default: any).
     *
     * @param address the address
     * @return a new builder
     */
    public Builder localAddress(InetAddress address) {
      Objects.requireNonNull(address, "address");
      return copy(b -> b.localAddress = address);
    }

    /**
     * Builds the agent (nothing is sent before {@link Lwm2mAgent#start()}).
     *
     * @return the agent
     * @throws OtaException reason {@code USAGE} when the server, endpoint, updater or store is
     *     missing, a {@code coaps} server has no key, or a {@code coap} server is not allowed
     */
    public Lwm2mAgent build() {
      if (server == null || endpoint.isBlank() || updater == null || store == null) {
        throw OtaException.of(Reason.USAGE, "An LwM2M agent needs a server URI, an endpoint name, an updater and a "
            + "slot store.");
      }
      // the scheme is normalised once, here: the agent is built from the normalised URI, so the security
      // (DTLS or none) always follows what was checked (COAPS:// once passed as coaps and ran as plain coap)
      URI normalised = normalise(server);
      String scheme = normalised.getScheme() == null ? "" : normalised.getScheme();
      if (scheme.equals("coaps")) {
        if (pskIdentity == null || pskKey == null || pskKey.length == 0) {
          throw OtaException.of(Reason.USAGE, "The server " + server + " is coaps: give the DTLS pre-shared key "
              + "(identity and key).");
        }
      } else if (scheme.equals("coap")) {
        if (!insecureCoap) {
          throw OtaException.of(Reason.USAGE, "The server " + server + " is plain coap (no security); use coaps with "
              + "a pre-shared key, or allow insecure CoAP explicitly (a lab only).");
        }
        if (pskKey != null) {
          throw OtaException.of(Reason.USAGE, "A pre-shared key was given for the plain coap server " + server
              + "; use coaps:// to use it.");
        }
      } else {
        throw OtaException.of(Reason.USAGE, "The LwM2M server URI must be coaps://HOST:PORT (or coap:// for a lab), "
            + "not \"" + server + "\".");
      }
      if (lifetime.toSeconds() < 1 || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw OtaException.of(Reason.USAGE, "The lifetime and the request timeout must be positive.");
      }
      return new Lwm2mAgent(copy(b -> b.server = normalised));
    }

    /** The URI with its scheme in lower case (RFC 3986: schemes are case-insensitive), the rest as given. */
    static URI normalise(URI uri) {
      String scheme = uri.getScheme();
      if (scheme == null || scheme.equals(scheme.toLowerCase(Locale.ROOT))) {
        return uri;
      }
      return URI.create(scheme.toLowerCase(Locale.ROOT) + uri.toString().substring(scheme.length()));
    }

    @Override
    public String toString() {
      return "endpoint=" + endpoint + ", server=" + server
          + (pskIdentity != null ? ", psk-identity=" + pskIdentity + ", psk-key=<redacted>" : "")
          + ", lifetime=" + lifetime.toSeconds() + "s";
    }
  }
}
