package io.otaflux.lwm2m;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.internal.Wrapping;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The Reactor side of Object 5: feeds the {@link FirmwareMachine} its inputs (the server's writes
 * and executes, downloads, the activation, the store's status) and carries out its outputs in the
 * order the transitions made them, with no lock held: events to the agent, resource changes to
 * Leshan, downloads on the work scheduler, the pending file ({@link PendingUpdate}), the reboot
 * hook.
 *
 * <p>A transition takes a short lock (the machine is immutable; the lock only orders transitions
 * and their outputs). Outputs are drained by one thread at a time, never under that lock: Leshan
 * holds its own object lock while it reads or writes us, so calling into it under ours would
 * deadlock (seen: a failed download's Result change against an observe).
 */
final class FirmwareUpdates {

  private static final Logger log = LoggerFactory.getLogger(FirmwareUpdates.class);

  private final OtaUpdater updater;
  private final SlotStore store;
  private final @Nullable ManifestUpdater manifests;
  private final boolean allowDowngrade;
  private final @Nullable Path pendingFile;
  private final Scheduler work;
  private final Runnable rebootHook;
  private final Consumer<AgentEvent> events;
  private final Consumer<StoreStatus> storeSeen;

  /** Orders transitions and their outputs; nothing outside this class is called while it is held. */
  private final Object lock = new Object();
  private volatile FirmwareMachine machine;
  /** The machine's outputs, carried out in order by one thread at a time, with no lock held. */
  private final Outbox<FirmwareMachine.Output> outputs = new Outbox<>(this::perform);
  private volatile IntConsumer changed = resource -> { };
  /** The download the drain started last (its abort and its end). */
  private volatile @Nullable Running running;

  FirmwareUpdates(OtaUpdater updater, SlotStore store, @Nullable ManifestUpdater manifests, boolean allowDowngrade,
      @Nullable Path pendingFile, Scheduler work, Runnable rebootHook, Consumer<AgentEvent> events,
      Consumer<StoreStatus> storeSeen) {
    this.updater = updater.store(store);
    this.store = store;
    this.manifests = manifests;
    this.allowDowngrade = allowDowngrade;
    this.pendingFile = pendingFile;
    this.work = work;
    this.rebootHook = rebootHook;
    this.events = events;
    this.storeSeen = storeSeen;
    this.machine = FirmwareMachine.initial(PendingUpdate.read(pendingFile).orElse(null));
  }

  /** Where resource changes go (the Leshan adapter); set once, before the client starts. */
  void onChanged(IntConsumer listener) {
    this.changed = listener;
  }

  /** Whether this thread holds the transition lock (it never should while calling out). */
  boolean locked() {
    return Thread.holdsLock(lock);
  }

  /** The machine now: a snapshot for reads. */
  FirmwareMachine now() {
    return machine;
  }

  Optional<PendingUpdate> pending() {
    return Optional.ofNullable(machine.pending());
  }

  /** The server wrote the Package URI; false when refused in this state. */
  boolean writeUri(String uri) {
    boolean accepted = apply(m -> m.writeUri(uri));
    if (!accepted) {
      log.info("Package URI refused: a download or update is running (State {}); cancel it first",
          machine.state().code());
    }
    return accepted;
  }

  /** The server executed Update; false when refused in this state. */
  boolean executeUpdate() {
    boolean accepted = apply(FirmwareMachine::executeUpdate);
    if (!accepted) {
      log.info("Update refused: it needs State 2 (downloaded), the State is {}", machine.state().code());
    }
    return accepted;
  }

  /**
   * Looks whether the pending update was confirmed (Result 1) or rolled back (Result 8).
   *
   * @return completion once the store was read
   */
  Mono<Void> checkPending() {
    return Mono.defer(() -> machine.toConfirm()
        .map(expected -> store.status().doOnNext(status -> {
          storeSeen.accept(status); // the Device's firmware version first: a server reads it on Result 1
          apply(m -> m.storeRead(expected, status));
        }).then())
        .orElse(Mono.empty()));
  }

  /** Stops a running download (the agent is stopping): the abort completes before this returns. */
  void abortDownload() {
    Running r = running;
    if (r == null) {
      return;
    }
    r.abort.emitValue(Boolean.TRUE, (signal, result) -> result == Sinks.EmitResult.FAIL_NON_SERIALIZED);
    r.done.block(Duration.ofSeconds(10));
  }

  // --- transitions and their outputs ------------------------------------------------------------

  private boolean apply(Function<FirmwareMachine, FirmwareMachine.Step> input) {
    FirmwareMachine.Step step;
    synchronized (lock) {
      step = input.apply(machine);
      machine = step.next();
      outputs.queue(step.outputs());
    }
    outputs.deliver();
    return step.accepted();
  }

  private void perform(FirmwareMachine.Output output) {
    if (output instanceof FirmwareMachine.Emit) {
      AgentEvent event = ((FirmwareMachine.Emit) output).event();
      if (event instanceof AgentEvent.Failed) {
        log.warn("{}", ((AgentEvent.Failed) event).message());
      }
      events.accept(event);
    } else if (output instanceof FirmwareMachine.Changed) {
      changed.accept(((FirmwareMachine.Changed) output).resource());
    } else if (output instanceof FirmwareMachine.StartDownload) {
      FirmwareMachine.StartDownload start = (FirmwareMachine.StartDownload) output;
      start(start.run(), start.uri());
    } else if (output instanceof FirmwareMachine.AbortDownload) {
      Running r = running;
      if (r != null && r.run == ((FirmwareMachine.AbortDownload) output).run()) {
        r.abort.emitValue(Boolean.TRUE, (signal, result) -> result == Sinks.EmitResult.FAIL_NON_SERIALIZED);
      }
    } else if (output instanceof FirmwareMachine.Activate) {
      activate(((FirmwareMachine.Activate) output).update());
    } else if (output instanceof FirmwareMachine.ForgetPending) {
      try {
        PendingUpdate.clear(pendingFile);
      } catch (RuntimeException e) {
        log.warn("Cannot delete {}: {}", pendingFile, e.toString());
      }
    } else if (output instanceof FirmwareMachine.Reboot) {
      work.schedule(this::reboot); // never on Californium's threads
    }
  }

  // --- downloads --------------------------------------------------------------------------------

  /** A download the drain started: its abort trigger and its end. */
  private static final class Running {
    final long run;
    final Sinks.One<Boolean> abort = Sinks.one();
    final Sinks.Empty<Void> ended = Sinks.empty();
    final Mono<Void> done = ended.asMono();

    Running(long run) {
      this.run = run;
    }
  }

  /** Starts a download once the previous one has ended (an abort releases the store first). */
  private void start(long run, URI uri) {
    Running previous = running;
    Mono<Void> after = previous == null ? Mono.empty() : previous.done;
    Running current = new Running(run);
    running = current;
    Mono<Boolean> trigger = current.abort.asMono();
    Flux<UpdateEvent> events = isManifest(uri) ? viaManifest(uri, trigger) : direct(uri, trigger);
    after.thenMany(events)
        .subscribeOn(work)
        .doOnNext(e -> {
          if (e instanceof UpdateEvent.Verified) {
            apply(m -> m.verified(run, (UpdateEvent.Verified) e));
          }
        })
        .doFinally(signal -> current.ended.tryEmitEmpty())
        .subscribe(e -> { }, error -> apply(m -> m.downloadFailed(run, failure(error, "The download failed"))),
            () -> apply(m -> m.downloadDone(run)));
  }

  private static OtaException failure(Throwable error, String what) {
    return Wrapping.wrap(Exceptions.unwrap(error), Reason.STORAGE, what);
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
          named(fileName(request.uri()), resolved.manifest().version().toString());
          return updater.update(request.withActivation(false), abortTrigger);
        });
  }

  /** A signed manifest named the package and its version (resources 6 and 7). */
  private void named(String name, String version) {
    apply(m -> m.named(name, version));
  }

  private static String fileName(URI uri) {
    String path = uri.getPath() == null ? "" : uri.getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  // --- activation -------------------------------------------------------------------------------

  private void activate(PendingUpdate update) {
    Mono.fromRunnable(() -> update.write(pendingFile))
        .then(store.activate(update.slot(), update.sha256()))
        .subscribeOn(work)
        .publishOn(work) // what follows runs here, not on the store's I/O threads
        .subscribe(v -> { }, error -> apply(m -> m.activationFailed(failure(error, "Activating the slot failed"))),
            () -> apply(m -> m.activated(update)));
  }

  private void reboot() {
    PendingUpdate p = machine.pending();
    log.info("Slot {} is the trial boot choice; running the reboot hook", p == null ? "?" : p.slot().label());
    try {
      rebootHook.run();
    } catch (RuntimeException e) {
      log.warn("The reboot hook failed: {}", e.toString());
      events.accept(new AgentEvent.Failed("The reboot hook failed: " + e.getMessage(), null));
    }
  }
}
