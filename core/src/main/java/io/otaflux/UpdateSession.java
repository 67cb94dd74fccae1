package io.otaflux;

import java.util.concurrent.atomic.AtomicBoolean;

import reactor.core.Disposable;
import reactor.core.publisher.ConnectableFlux;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One update watched by several subscribers — a progress bar, an Abort button, a log — with an
 * {@link #abort()} and a {@link #result()}.
 *
 * <pre>{@code
 * UpdateSession session = updater.session(request);
 * session.events().subscribe(bar::render);      // as many as you like, before or after start
 * session.start();
 * abortButton.onClick(session::abort);
 * session.result().block();                     // or subscribe
 * }</pre>
 *
 * <p>Subscribers before {@link #start()} see every event; later ones see the latest event, then
 * everything after it. All see the same end: the result, or the same {@link OtaException}
 * (reason {@code ABORTED} after {@link #abort()}).
 */
public final class UpdateSession {

  private final Sinks.One<Boolean> abortSignal = Sinks.one();
  private final ConnectableFlux<UpdateEvent> shared;
  private final Mono<UpdateResult> result;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile Disposable connection = () -> { };

  UpdateSession(OtaUpdater updater, UpdateRequest request) {
    this.shared = updater.update(request, abortSignal.asMono()).replay(1);
    this.result = OtaUpdater.collect(request, shared).cache();
    // the result is watched from the start, so it sees every event and an error is never unobserved
    this.result.subscribe(r -> { }, e -> { });
  }

  /**
   * Starts the update, once; later calls do nothing.
   *
   * @return this session
   */
  public UpdateSession start() {
    if (started.compareAndSet(false, true)) {
      connection = shared.connect();
    }
    return this;
  }

  /**
   * The update's events, shared by every subscriber. Cancelling one subscription does not stop
   * the update: {@link #abort()} does.
   *
   * @return the hot events
   */
  public Flux<UpdateEvent> events() {
    return shared;
  }

  /**
   * Aborts the update: the writer stops, the connection closes, the store stays as it was, and
   * every subscriber sees an {@link OtaException} of reason {@code ABORTED}. Safe from any thread,
   * any number of times; a no-op once the update has ended.
   */
  public void abort() {
    abortSignal.tryEmitValue(Boolean.TRUE);
  }

  /**
   * The update's result, or its failure.
   *
   * @return the cached result
   */
  public Mono<UpdateResult> result() {
    return result;
  }

  /**
   * Whether {@link #start()} was called.
   *
   * @return true once started
   */
  public boolean isStarted() {
    return started.get();
  }

  /** Disconnects without waiting: prefer {@link #abort()}, which finishes cleanly. */
  void dispose() {
    connection.dispose();
  }
}
