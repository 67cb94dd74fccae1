package io.otaflux.lwm2m;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.internal.Redaction;
import io.otaflux.internal.Uris;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.spi.SlotStore;

import org.eclipse.leshan.client.resource.BaseInstanceEnabler;
import org.eclipse.leshan.client.servers.LwM2mServer;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel.Type;
import org.eclipse.leshan.core.node.LwM2mResource;
import org.eclipse.leshan.core.request.argument.Arguments;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Object 5, instance 0: the Firmware Update state machine over {@link OtaUpdater}. Writes and
 * executes are answered at once on Californium's thread; downloads, activation and the reboot
 * hook run on the work scheduler.
 */
final class FirmwareUpdateObject extends BaseInstanceEnabler {

  private static final Logger log = LoggerFactory.getLogger(FirmwareUpdateObject.class);
  private static final List<Integer> RESOURCES = List.of(0, 1, 2, 3, 5, 6, 7, 8, 9);
  private static final int PACKAGE = 0;
  private static final int PACKAGE_URI = 1;
  private static final int UPDATE = 2;
  private static final int STATE = 3;
  private static final int RESULT = 5;
  private static final int PKG_NAME = 6;
  private static final int PKG_VERSION = 7;
  private static final int PROTOCOLS = 8;
  private static final int DELIVERY = 9;
  /** Resource 8's value for HTTPS. */
  private static final long HTTPS = 3;

  private final OtaUpdater updater;
  private final SlotStore store;
  private final @Nullable ManifestUpdater manifests;
  private final boolean allowDowngrade;
  private final @Nullable Path pendingFile;
  private final Scheduler work;
  private final Runnable rebootHook;
  private final Consumer<AgentEvent> events;
  private final Consumer<StoreStatus> storeSeen;

  private final Object lock = new Object();
  /** Resources changed under the lock, fired once it is let go. */
  private final List<Integer> unfired = new ArrayList<>();
  private FirmwareState state = FirmwareState.IDLE;
  private FirmwareResult result = FirmwareResult.INITIAL;
  private String packageUri = "";
  private String packageName = "";
  private String packageVersion = "";
  private long generation;
  private @Nullable Disposable download;
  private Sinks.@Nullable One<Boolean> abort;
  private Mono<Void> previousDone = Mono.empty();
  private UpdateEvent.@Nullable Verified downloaded;
  private @Nullable PendingUpdate pending;
  private boolean activating;

  FirmwareUpdateObject(OtaUpdater updater, SlotStore store, @Nullable ManifestUpdater manifests, boolean allowDowngrade,
      @Nullable Path pendingFile, Scheduler work, Runnable rebootHook, Consumer<AgentEvent> events,
      Consumer<StoreStatus> storeSeen) {
    super(0);
    this.updater = updater.store(store);
    this.store = store;
    this.manifests = manifests;
    this.allowDowngrade = allowDowngrade;
    this.pendingFile = pendingFile;
    this.work = work;
    this.rebootHook = rebootHook;
    this.events = events;
    this.storeSeen = storeSeen;
    this.pending = PendingUpdate.read(pendingFile).orElse(null);
    if (pending != null) {
      packageName = pending.packageName();
      packageVersion = pending.packageVersion();
    }
  }

  FirmwareState state() {
    synchronized (lock) {
      return state;
    }
  }

  FirmwareResult result() {
    synchronized (lock) {
      return result;
    }
  }

  @Override
  public ReadResponse read(LwM2mServer server, int resourceId) {
    synchronized (lock) {
      switch (resourceId) {
        case PACKAGE_URI:
          return ReadResponse.success(resourceId, packageUri);
        case STATE:
          return ReadResponse.success(resourceId, (long) state.code());
        case RESULT:
          return ReadResponse.success(resourceId, (long) result.code());
        case PKG_NAME:
          return ReadResponse.success(resourceId, packageName);
        case PKG_VERSION:
          return ReadResponse.success(resourceId, packageVersion);
        case PROTOCOLS:
          return ReadResponse.success(resourceId, Map.of(0, HTTPS), Type.INTEGER);
        case DELIVERY:
          return ReadResponse.success(resourceId, 0L); // pull only
        default:
          return super.read(server, resourceId);
      }
    }
  }

  @Override
  public WriteResponse write(LwM2mServer server, boolean replace, int resourceId, LwM2mResource value) {
    if (resourceId == PACKAGE) {
      return WriteResponse.badRequest("this device pulls its firmware over HTTPS: write the Package URI (/5/0/1)");
    }
    if (resourceId == PACKAGE_URI) {
      Object uri = value.getValue();
      return packageUri(uri == null ? "" : uri.toString());
    }
    return super.write(server, replace, resourceId, value);
  }

  @Override
  public ExecuteResponse execute(LwM2mServer server, int resourceId, Arguments arguments) {
    if (resourceId == UPDATE) {
      return update();
    }
    return super.execute(server, resourceId, arguments);
  }

  @Override
  public List<Integer> getAvailableResourceIds(ObjectModel model) {
    return RESOURCES;
  }

  // --- Package URI ------------------------------------------------------------------------

  private WriteResponse packageUri(String written) {
    try {
      String uri = written.strip();
      URI parsed;
      synchronized (lock) {
        if (uri.isEmpty()) {
          cancel();
          return WriteResponse.success();
        }
        if (state == FirmwareState.DOWNLOADING || state == FirmwareState.UPDATING) {
          log.info("Package URI refused: a download or update is running (State {}); cancel it first", state.code());
          return WriteResponse.methodNotAllowed();
        }
        packageUri = uri;
        packageName = "";
        packageVersion = "";
        downloaded = null;
        // a pending update (activated, not yet confirmed or rolled back) keeps its record: while its
        // trial runs the boot rules refuse this download, and its Update Result (1 or 8) still comes
        try {
          parsed = checkPackageUri(uri);
        } catch (OtaException refused) {
          setResult(FirmwareResult.of(refused));
          setState(FirmwareState.IDLE);
          failed(refused.getMessage(), refused.reason());
          fire(PACKAGE_URI, PKG_NAME, PKG_VERSION);
          return WriteResponse.success();
        }
        setResult(FirmwareResult.INITIAL);
        setState(FirmwareState.DOWNLOADING);
        fire(PACKAGE_URI, PKG_NAME, PKG_VERSION);
      }
      // the server is told State 1 before the download can end (a failure at once would
      // otherwise change the state back before the notification reads it)
      flush();
      synchronized (lock) {
        if (state == FirmwareState.DOWNLOADING && uri.equals(packageUri)) {
          start(parsed);
        }
      }
      return WriteResponse.success();
    } finally {
      flush();
    }
  }

  /**
   * The Package URI a server wrote, as an absolute {@code https:} URI with a host.
   *
   * @throws OtaException {@link Detail#INVALID_REQUEST} (Update Result 7) for text that is not such
   *     a URL, {@link Detail#NOT_HTTPS} (9) for another scheme
   */
  static URI checkPackageUri(String written) {
    URI parsed;
    try {
      parsed = Uris.parse(written);
    } catch (URISyntaxException e) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The Package URI \"" + Redaction.url(written)
          + "\" is not a valid absolute URL.", e);
    }
    if (!parsed.isAbsolute()) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The Package URI \"" + Redaction.url(written)
          + "\" is not a valid absolute URL.");
    }
    if (!"https".equals(parsed.getScheme().toLowerCase(Locale.ROOT))) {
      throw OtaException.of(Detail.NOT_HTTPS, "The Package URI \"" + Redaction.url(written)
          + "\" is not https:; this device downloads over HTTPS only.");
    }
    if (parsed.getHost() == null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The Package URI \"" + Redaction.url(written)
          + "\" names no host; write an https://HOST/... URL.");
    }
    return parsed;
  }

  /** Starts a download once the previous one has ended (an abort releases the store first). */
  private void start(URI uri) {
    long run = ++generation;
    Sinks.One<Boolean> trigger = Sinks.one();
    Sinks.Empty<Void> done = Sinks.empty();
    abort = trigger;
    Mono<Void> after = previousDone;
    previousDone = done.asMono();
    Flux<UpdateEvent> events = isManifest(uri) ? viaManifest(uri, trigger.asMono()) : direct(uri, trigger.asMono());
    download = after.thenMany(events)
        .subscribeOn(work)
        .doOnNext(e -> {
          if (e instanceof UpdateEvent.Verified) {
            synchronized (lock) {
              if (run == generation) {
                downloaded = (UpdateEvent.Verified) e;
              }
            }
          }
        })
        .doFinally(signal -> done.tryEmitEmpty())
        .subscribe(e -> { }, error -> downloadFailed(run, error), () -> downloadDone(run));
  }

  private static boolean isManifest(URI uri) {
    String path = uri.getPath();
    return path != null && path.toLowerCase(Locale.ROOT).endsWith(".json");
  }

  private Flux<UpdateEvent> direct(URI uri, Mono<Boolean> abortTrigger) {
    return Flux.defer(() -> updater.update(UpdateRequest.of(uri).withActivation(false), abortTrigger));
  }

  private Flux<UpdateEvent> viaManifest(URI uri, Mono<Boolean> abortTrigger) {
    ManifestUpdater m = manifests;
    if (m == null) {
      return Flux.error(OtaException.of(Detail.SIGNATURE_CHECK_REQUIRED, "The Package URI names a manifest (.json), "
          + "but this agent has no trusted key to check its signature, so nothing was downloaded; give the agent the "
          + "publisher's key (ota agent: --trusted-key), or --no-signature-check to accept unsigned manifests "
          + "knowingly."));
    }
    // the one signed-manifest step: signature, downgrade policy (the agent's allowDowngrade or the
    // manifest updater's own), image URL, and the manifest's credentials for an image on its origin
    return (allowDowngrade ? m.allowDowngrade(true) : m).resolve(UpdateRequest.of(uri))
        .takeUntilOther(abortTrigger)
        .switchIfEmpty(Mono.error(() -> OtaException.of(Reason.ABORTED, "The download was cancelled.")))
        .flatMapMany(resolved -> {
          UpdateRequest request = resolved.request();
          synchronized (lock) {
            packageName = fileName(request.uri());
            packageVersion = resolved.manifest().version().toString();
          }
          fire(PKG_NAME, PKG_VERSION);
          return updater.update(request.withActivation(false), abortTrigger);
        });
  }

  private static String fileName(URI uri) {
    String path = uri.getPath() == null ? "" : uri.getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private void downloadDone(long run) {
    try {
      synchronized (lock) {
        if (run != generation) {
          return;
        }
        download = null;
        abort = null;
        if (downloaded == null) {
          downloadFailed(run, OtaException.of(Reason.STORAGE, "The download ended without a verified image."));
          return;
        }
        setState(FirmwareState.DOWNLOADED);
      }
    } finally {
      flush();
    }
  }

  private void downloadFailed(long run, Throwable error) {
    try {
      OtaException failure = OtaException.wrap(reactor.core.Exceptions.unwrap(error), Reason.STORAGE, "The download failed");
      synchronized (lock) {
        if (run != generation) {
          return;
        }
        download = null;
        abort = null;
        downloaded = null;
        if (failure.reason() == Reason.ABORTED) {
          log.info("Download cancelled; the store is as it was");
          packageUri = "";
          setResult(FirmwareResult.INITIAL);
          setState(FirmwareState.IDLE);
          return;
        }
        FirmwareResult code = FirmwareResult.of(failure);
        PendingUpdate p = pending;
        if (p != null && (failure.detail() == OtaException.Detail.TRIAL_RUNNING
            || failure.detail() == OtaException.Detail.REBOOT_PENDING)) {
          // refused before a byte was written: the pending update's package is still what the device holds
          packageUri = "";
          packageName = p.packageName();
          packageVersion = p.packageVersion();
          fire(PACKAGE_URI, PKG_NAME, PKG_VERSION);
        }
        log.warn("Download failed (Update Result {}): {}", code.code(), failure.getMessage());
        failed(failure.getMessage(), failure.reason());
        setResult(code);
        setState(FirmwareState.IDLE);
      }
    } finally {
      flush();
    }
  }

  /** An empty Package URI: abort a download, or forget a downloaded image; back to State 0. */
  private void cancel() {
    packageUri = "";
    Sinks.One<Boolean> trigger = abort;
    if (state == FirmwareState.DOWNLOADING && trigger != null) {
      trigger.tryEmitValue(Boolean.TRUE); // State 0 once the abort has completed: see downloadFailed
      fire(PACKAGE_URI);
      return;
    }
    if (state == FirmwareState.UPDATING) {
      return; // too late to cancel: the activation finishes
    }
    generation++;
    downloaded = null;
    packageName = "";
    packageVersion = "";
    setResult(FirmwareResult.INITIAL);
    setState(FirmwareState.IDLE);
    fire(PACKAGE_URI, PKG_NAME, PKG_VERSION);
  }

  /** Stops a running download (the agent is stopping): the abort completes before this returns. */
  void abortDownload() {
    try {
      Disposable running;
      Mono<Void> done;
      synchronized (lock) {
        Sinks.One<Boolean> trigger = abort;
        running = download;
        done = previousDone;
        if (trigger == null || running == null) {
          return;
        }
        trigger.tryEmitValue(Boolean.TRUE);
      }
      done.block(java.time.Duration.ofSeconds(10));
    } finally {
      flush();
    }
  }

  // --- Update -----------------------------------------------------------------------------

  private ExecuteResponse update() {
    try {
      synchronized (lock) {
        UpdateEvent.Verified image = downloaded;
        if (state != FirmwareState.DOWNLOADED || image == null) {
          log.info("Update refused: it needs State 2 (downloaded), the State is {}", state.code());
          return ExecuteResponse.methodNotAllowed();
        }
        PendingUpdate update = new PendingUpdate(image.slot(), image.sha256(), packageName, packageVersion);
        activating = true;
        setState(FirmwareState.UPDATING);
        Mono.fromRunnable(() -> update.write(pendingFile))
            .then(store.activate(update.slot(), update.sha256()))
            .subscribeOn(work)
            .publishOn(work) // the reboot hook runs here, not on the store's I/O threads
            .subscribe(v -> { }, error -> activationFailed(error), () -> activated(update));
        return ExecuteResponse.success();
      }
    } finally {
      flush();
    }
  }

  private void activated(PendingUpdate update) {
    try {
      synchronized (lock) {
        pending = update;
        activating = false;
        downloaded = null;
        setState(FirmwareState.IDLE);
      }
      log.info("Slot {} is the trial boot choice; running the reboot hook", update.slot().label());
      try {
        rebootHook.run();
      } catch (RuntimeException e) {
        log.warn("The reboot hook failed: {}", e.toString());
        failed("The reboot hook failed: " + e.getMessage(), null);
      }
    } finally {
      flush();
    }
  }

  private void activationFailed(Throwable error) {
    try {
      OtaException failure = OtaException.wrap(reactor.core.Exceptions.unwrap(error), Reason.STORAGE,
          "Activating the slot failed");
      synchronized (lock) {
        activating = false;
        downloaded = null;
        try {
          PendingUpdate.clear(pendingFile);
        } catch (RuntimeException e) {
          log.warn("Cannot delete {}: {}", pendingFile, e.toString());
        }
        failed(failure.getMessage(), failure.reason());
        setResult(FirmwareResult.UPDATE_FAILED);
        setState(FirmwareState.IDLE);
      }
    } finally {
      flush();
    }
  }

  // --- confirmation -----------------------------------------------------------------------

  /**
   * Looks whether the pending update was confirmed (Result 1) or rolled back (Result 8).
   *
   * @return completion once the store was read
   */
  Mono<Void> checkPending() {
    PendingUpdate p;
    synchronized (lock) {
      p = pending;
      if (p == null || activating) {
        return Mono.empty();
      }
    }
    PendingUpdate expected = p;
    return store.status().doOnNext(status -> judge(expected, status)).then();
  }

  private void judge(PendingUpdate expected, StoreStatus status) {
    try {
      SlotStatus slot = status.slot(expected.slot());
      boolean sameImage = slot.digest().map(expected.sha256()::equals).orElse(false);
      storeSeen.accept(status); // the Device's firmware version first: a server reads it on Result 1
      synchronized (lock) {
        if (pending != expected) {
          return;
        }
        if (sameImage && slot.state() == SlotState.TRIAL) {
          return; // not confirmed yet
        }
        if (sameImage && slot.state() == SlotState.GOOD && status.active() == expected.slot()) {
          log.info("Slot {} was confirmed: Update Result 1", expected.slot().label());
          forgetPending();
          setResult(FirmwareResult.SUCCESS);
          return;
        }
        if (sameImage && slot.state() == SlotState.GOOD) {
          return; // good but not running: a rollback to it would be odd; wait for the boot
        }
        log.warn("Slot {} was rolled back (state {}): Update Result 8", expected.slot().label(), slot.state().label());
        forgetPending();
        failed("The update in slot " + expected.slot().label() + " was rolled back.", null);
        setResult(FirmwareResult.UPDATE_FAILED);
      }
    } finally {
      flush();
    }
  }

  private void forgetPending() {
    if (pending != null) {
      pending = null;
      try {
        PendingUpdate.clear(pendingFile);
      } catch (RuntimeException e) {
        log.warn("Cannot delete {}: {}", pendingFile, e.toString());
      }
    }
  }

  Optional<PendingUpdate> pending() {
    synchronized (lock) {
      return Optional.ofNullable(pending);
    }
  }

  // --- notifications ----------------------------------------------------------------------

  private void setState(FirmwareState next) {
    if (state != next) {
      state = next;
      events.accept(new AgentEvent.StateChanged(next));
      fire(STATE);
    }
  }

  private void setResult(FirmwareResult next) {
    if (result != next) {
      result = next;
      events.accept(new AgentEvent.ResultChanged(next));
      fire(RESULT);
    }
  }

  private void failed(String message, @Nullable Reason reason) {
    events.accept(new AgentEvent.Failed(message, reason));
  }

  /**
   * Tells Leshan that resources changed. Never while this object's lock is held: Leshan holds its
   * own object lock while it reads or writes us (which takes our lock), so calling into it under
   * our lock deadlocks (seen: a failed download's Result change against an observe). Under the lock
   * the resources are only noted; the entry point that took the lock fires them once it let go
   * ({@link #flush()}).
   */
  private void fire(int... resources) {
    if (Thread.holdsLock(lock)) {
      for (int r : resources) {
        if (!unfired.contains(r)) {
          unfired.add(r);
        }
      }
      return;
    }
    if (getLwM2mClient() == null && listeners.isEmpty()) {
      return;
    }
    for (int r : resources) {
      fireResourceChange(r);
    }
  }

  /** Fires what changed under the lock; called by every entry point after it let go of the lock. */
  private void flush() {
    if (Thread.holdsLock(lock)) {
      return; // an outer frame still holds it and flushes when it lets go
    }
    int[] changed;
    synchronized (lock) {
      changed = unfired.stream().mapToInt(Integer::intValue).toArray();
      unfired.clear();
    }
    if (changed.length > 0) {
      fire(changed);
    }
  }
}
