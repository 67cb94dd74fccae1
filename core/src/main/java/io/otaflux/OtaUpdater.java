package io.otaflux;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Runs firmware updates: streams an image from a {@link FirmwareSource} through SHA-256 into the
 * inactive slot of a {@link SlotStore}, verifies it, and activates it as a trial.
 *
 * <p>Immutable and copy-on-write: every setter returns a new updater, so one configured updater
 * can serve as a template.
 *
 * <pre>{@code
 * OtaUpdater updater = OtaUpdater.create()
 *     .source(source)                     // HTTPS (otaflux-transport) or in memory
 *     .store(store);                      // file slots (otaflux-storage) or in memory
 * updater.update(UpdateRequest.of("https://fw.example.com/gw-2.0.bin"))
 *     .subscribe(event -> log.info("{}", event));
 * }</pre>
 */
public final class OtaUpdater {

  private static final long MIB = 1024 * 1024;

  private final @Nullable FirmwareSource source;
  private final @Nullable SlotStore store;
  private final int retries;
  private final Duration firstBackoff;
  private final Duration maxBackoff;
  private final Duration progressEvery;
  private final @Nullable Scheduler timer;
  private final @Nullable Scheduler writeScheduler;
  private final int chunksInFlight;
  private final long syncEvery;

  private OtaUpdater(@Nullable FirmwareSource source, @Nullable SlotStore store, int retries, Duration firstBackoff,
      Duration maxBackoff, Duration progressEvery, @Nullable Scheduler timer, @Nullable Scheduler writeScheduler,
      int chunksInFlight, long syncEvery) {
    this.source = source;
    this.store = store;
    this.retries = retries;
    this.firstBackoff = firstBackoff;
    this.maxBackoff = maxBackoff;
    this.progressEvery = progressEvery;
    this.timer = timer;
    this.writeScheduler = writeScheduler;
    this.chunksInFlight = chunksInFlight;
    this.syncEvery = syncEvery;
  }

  /**
   * An updater with the defaults: 3 retries with backoff from 1 s to 30 s, progress at most
   * every 100 ms, 8 chunks in flight, a sync every 8 MiB. Set a source and a store before use.
   *
   * @return the updater
   */
  public static OtaUpdater create() {
    return new OtaUpdater(null, null, 3, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMillis(100), null,
        null, 8, 8 * MIB);
  }

  /**
   * This updater, fetching images from {@code source}.
   *
   * @param source where images come from
   * @return a new updater
   */
  public OtaUpdater source(FirmwareSource source) {
    Objects.requireNonNull(source, "source");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, writing into {@code store}.
   *
   * @param store the A/B slot store
   * @return a new updater
   */
  public OtaUpdater store(SlotStore store) {
    Objects.requireNonNull(store, "store");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, resuming a broken download after at most {@code retries} transient failures in
   * a row that brought no byte, waiting from {@code firstBackoff} (doubling, with jitter) up to
   * {@code maxBackoff} between tries. A failure after progress starts the count again, so a link
   * that breaks every megabyte still delivers a large image, like {@code curl -C -} run again;
   * every break syncs the bytes it delivered and the next try resumes there. A server's
   * {@code Retry-After} lengthens a wait, but never past {@code maxBackoff}.
   *
   * @param retries how many failures in a row without progress are retried (0 for none)
   * @param firstBackoff the first delay
   * @param maxBackoff the longest delay
   * @return a new updater
   */
  public OtaUpdater retry(int retries, Duration firstBackoff, Duration maxBackoff) {
    if (retries < 0) {
      throw OtaException.of(OtaException.Reason.USAGE, "The number of retries cannot be negative (" + retries + ").");
    }
    Objects.requireNonNull(firstBackoff, "firstBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, emitting {@link UpdateEvent.Progress} at most once per {@code interval} and per
   * whole percent (and always once at the end).
   *
   * @param interval the shortest time between two progress events
   * @return a new updater
   */
  public OtaUpdater progressEvery(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, interval, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, using {@code timer} for time: backoff delays, progress throttling and rates.
   * Pass a {@code VirtualTimeScheduler} in tests. Default: {@link Schedulers#parallel()}.
   *
   * @param timer the scheduler that keeps time
   * @return a new updater
   */
  public OtaUpdater scheduler(Scheduler timer) {
    Objects.requireNonNull(timer, "timer");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, running the blocking slot writes on {@code writeScheduler}. Default: a shared
   * bounded-elastic scheduler named {@code otaflux-write}.
   *
   * @param writeScheduler where slot I/O runs; never a network event loop
   * @return a new updater
   */
  public OtaUpdater writeScheduler(Scheduler writeScheduler) {
    Objects.requireNonNull(writeScheduler, "writeScheduler");
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, syncEvery);
  }

  /**
   * This updater, letting at most {@code chunks} chunks wait between the source and the slot
   * writer: memory stays flat whatever the image size.
   *
   * @param chunks the bound, at least 1
   * @return a new updater
   */
  public OtaUpdater chunksInFlight(int chunks) {
    if (chunks < 1) {
      throw OtaException.of(OtaException.Reason.USAGE, "At least one chunk must be in flight, not " + chunks + ".");
    }
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunks, syncEvery);
  }

  /**
   * This updater, making written bytes durable (and the resume point advance) every
   * {@code bytes} bytes.
   *
   * @param bytes the sync interval in bytes, at least 64 KiB
   * @return a new updater
   */
  public OtaUpdater syncEvery(long bytes) {
    if (bytes < 64 * 1024) {
      throw OtaException.of(OtaException.Reason.USAGE, "Sync at most every 64 KiB, not every " + bytes + " bytes.");
    }
    return new OtaUpdater(source, store, retries, firstBackoff, maxBackoff, progressEvery, timer, writeScheduler,
        chunksInFlight, bytes);
  }

  /**
   * Runs one update per subscription: opens a writer on the inactive slot, streams the image
   * into it, verifies, commits and (unless the request says otherwise) activates it as a trial.
   *
   * <p><b>Cancellation:</b> cancelling is an abort: the connection closes, the write stops, the
   * slot being written is marked so it never boots, and the active slot and boot choice stay
   * as they were.
   *
   * <p><b>Threading:</b> slot writes, hashing and progress run on the write scheduler; events
   * arrive on it or on the source's threads.
   *
   * <p><b>Errors:</b> an {@link OtaException}; transient failures are retried first, resuming
   * from the last durable byte.
   *
   * @param request what to install
   * @return the events of the update
   */
  public Flux<UpdateEvent> update(UpdateRequest request) {
    return update(request, Mono.never());
  }

  /**
   * As {@link #update(UpdateRequest)}, aborting when {@code abortTrigger} emits anything,
   * completes or fails (a {@code Mono<Void>} button aborts by completing): the abort completes (writer aborted, connection closed) before the stream ends with an
   * {@link OtaException} of reason {@code ABORTED}.
   *
   * @param request what to install
   * @param abortTrigger a signal to abort (a button, a key, a signal handler)
   * @return the events of the update
   */
  public Flux<UpdateEvent> update(UpdateRequest request, Publisher<?> abortTrigger) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(abortTrigger, "abortTrigger");
    FirmwareSource src = source;
    SlotStore slots = store;
    if (src == null || slots == null) {
      return Flux.error(OtaException.of(OtaException.Reason.USAGE,
          "The updater has no " + (src == null ? "firmware source" : "slot store")
              + "; give one with OtaUpdater.create()." + (src == null ? "source(...)" : "store(...)") + "."));
    }
    return Flux.defer(() -> new UpdateRun(this, src, slots, request, abortTrigger).events());
  }

  /**
   * Runs an update and returns its result: the one-call form of the original
   * {@code ez.wifi.update(url, root_cert, &progressBar)}.
   *
   * @param request what to install
   * @return the result; the error's message is the human-readable {@code updateError()}
   */
  public Mono<UpdateResult> install(UpdateRequest request) {
    return install(request, event -> { });
  }

  /**
   * Runs an update, telling {@code progress} of every event, and returns its result.
   *
   * @param request what to install
   * @param progress told of every event (a progress bar, a log)
   * @return the result; the error's message is the human-readable {@code updateError()}
   */
  public Mono<UpdateResult> install(UpdateRequest request, Consumer<? super UpdateEvent> progress) {
    Objects.requireNonNull(progress, "progress");
    return collect(request, update(request).doOnNext(progress));
  }

  /**
   * A hot session for one update that several subscribers watch (a bar, an Abort button, a log):
   * nothing runs until {@link UpdateSession#start()}.
   *
   * @param request what to install
   * @return the session
   */
  public UpdateSession session(UpdateRequest request) {
    return new UpdateSession(this, request);
  }

  static Mono<UpdateResult> collect(UpdateRequest request, Flux<UpdateEvent> events) {
    return events.reduce(new ResultBuilder(request), ResultBuilder::add).flatMap(ResultBuilder::build);
  }

  int retries() {
    return retries;
  }

  Duration firstBackoff() {
    return firstBackoff;
  }

  Duration maxBackoff() {
    return maxBackoff;
  }

  Duration progressInterval() {
    return progressEvery;
  }

  Scheduler timer() {
    return timer != null ? timer : Schedulers.parallel();
  }

  Scheduler writes() {
    return writeScheduler != null ? writeScheduler : DefaultWriteScheduler.INSTANCE;
  }

  int chunks() {
    return chunksInFlight;
  }

  long syncInterval() {
    return syncEvery;
  }

  /** Lazily created, shared, daemon threads: created only by an updater that needs it. */
  private static final class DefaultWriteScheduler {
    static final Scheduler INSTANCE = Schedulers.newBoundedElastic(8, 1024, "otaflux-write", 60, true);
  }

  /** Folds the events of one update into its result. */
  private static final class ResultBuilder {
    private final UpdateRequest request;
    private UpdateEvent.@Nullable Resolved resolved;
    private UpdateEvent.@Nullable Verified verified;
    private boolean activated;
    private final List<String> warnings = new ArrayList<>();

    ResultBuilder(UpdateRequest request) {
      this.request = request;
    }

    ResultBuilder add(UpdateEvent event) {
      if (event instanceof UpdateEvent.Resolved) {
        resolved = (UpdateEvent.Resolved) event;
        for (String w : resolved.warnings()) {
          if (!warnings.contains(w)) {
            warnings.add(w);
          }
        }
      } else if (event instanceof UpdateEvent.Verified) {
        verified = (UpdateEvent.Verified) event;
      } else if (event instanceof UpdateEvent.Activated) {
        activated = true;
      }
      return this;
    }

    Mono<UpdateResult> build() {
      UpdateEvent.Verified v = verified;
      UpdateEvent.Resolved r = resolved;
      if (v == null || r == null) {
        return Mono.error(OtaException.of(OtaException.Reason.STORAGE,
            "The update ended without verifying an image; nothing was activated. Run it again."));
      }
      return Mono.just(new UpdateResult(v.slot(), v.size(), v.sha256(), r.effectiveUri(), activated,
          request.version().orElse(null), warnings));
    }
  }
}
