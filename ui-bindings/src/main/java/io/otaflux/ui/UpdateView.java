package io.otaflux.ui;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * What a screen shows of an update at one moment: a framework-neutral, immutable view state.
 * {@link #from(Publisher, String)} turns an update's events into a stream of these; a console
 * bar, a web page or a desktop widget only has to draw them.
 *
 * <pre>{@code
 * UpdateView.from(session.events(), "gw-2.0.bin")
 *     .subscribe(view -> label.setText(view.message() + " " + view.percent()));
 * }</pre>
 *
 * @param title what is being installed, as the caller named it
 * @param state the phase of the update
 * @param message one short sentence saying what is happening now
 * @param bytesDone bytes written to the slot so far
 * @param totalBytes the image size, or {@link UpdateEvent#UNKNOWN_SIZE}
 * @param bytesPerSecond the recent write rate (0 when not known)
 * @param slot the slot being written, once known, or null
 * @param sha256 the verified digest, once verified, or null
 * @param error the human sentence of a failure or abort (what happened, what to do), or null
 * @param detail what exactly failed (its {@link OtaException.Detail#reason() reason} is the family), or null
 * @param warnings what a person should know that did not stop the update
 */
public record UpdateView(String title, State state, String message, long bytesDone, long totalBytes,
    double bytesPerSecond, @Nullable SlotId slot, @Nullable Sha256 sha256, @Nullable String error,
    OtaException.@Nullable Detail detail, List<String> warnings) {

  /** How often a running update's view changes at most, by default. */
  static final Duration DEFAULT_EVERY = Duration.ofMillis(100);

  /** The phase of an update, as a screen shows it. */
  public enum State {
    /** Waiting to start, or downloading and writing. */
    RUNNING,
    /** Every byte is written: checking the image and making it the boot choice. */
    VERIFYING,
    /** The image is written, verified and (unless the request said otherwise) activated. */
    DONE,
    /** The update failed; {@link UpdateView#error()} says why and what to do. */
    FAILED,
    /** The update was aborted on request; the store is as it was. */
    ABORTED;

    /**
     * Whether the update has ended in this state.
     *
     * @return true for {@code DONE}, {@code FAILED} and {@code ABORTED}
     */
    public boolean isFinal() {
      return this == DONE || this == FAILED || this == ABORTED;
    }

    /**
     * The state's name as the page and JSON show it.
     *
     * @return {@code "running"}, {@code "verifying"}, {@code "done"}, {@code "failed"} or {@code "aborted"}
     */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Checks the parts and copies the warnings.
   *
   * @param title the title
   * @param state the state
   * @param message the message
   * @param bytesDone bytes written
   * @param totalBytes the size or unknown
   * @param bytesPerSecond the rate
   * @param slot the slot or null
   * @param sha256 the digest or null
   * @param error the error sentence or null
   * @param detail the failure detail or null
   * @param warnings the warnings
   */
  public UpdateView {
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(message, "message");
    warnings = List.copyOf(warnings);
  }

  /**
   * The view before the first event.
   *
   * @param title what is being installed
   * @return a running view with nothing done yet
   */
  public static UpdateView initial(String title) {
    return new UpdateView(title, State.RUNNING, "Waiting for the update to start.", 0, UpdateEvent.UNKNOWN_SIZE, 0,
        null, null, null, null, List.of());
  }

  /**
   * The views of an update, throttled to at most one running view per 100 ms (a change of state
   * always shows at once), on {@link Schedulers#parallel()}.
   *
   * @param events the update's events, e.g. {@code session.events()}
   * @param title what is being installed
   * @return the views; see {@link #from(Publisher, String, Duration, Scheduler)}
   */
  public static Flux<UpdateView> from(Publisher<? extends UpdateEvent> events, String title) {
    return from(events, title, DEFAULT_EVERY, Schedulers.parallel());
  }

  /**
   * The views of an update: one per change of state at once, and while the state stays the same
   * the latest view at most once per {@code every}. The last view of a phase is never dropped.
   *
   * <p><b>Errors:</b> never signalled. A failure of {@code events} becomes a last view in state
   * {@link State#FAILED} (or {@link State#ABORTED} for reason {@code ABORTED}) carrying the
   * human sentence, then the views complete. Events that end without a verified image end in
   * {@code FAILED} too.
   *
   * <p><b>Cancellation:</b> cancelling the views cancels the subscription to {@code events}; with
   * an {@code UpdateSession} that does not stop the update.
   *
   * @param events the update's events
   * @param title what is being installed
   * @param every the shortest time between two views of the same state
   * @param timer the clock for throttling (a virtual one in tests)
   * @return the views
   */
  public static Flux<UpdateView> from(Publisher<? extends UpdateEvent> events, String title, Duration every,
      Scheduler timer) {
    Objects.requireNonNull(events, "events");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(every, "every");
    Objects.requireNonNull(timer, "timer");
    Flux<UpdateView> views = Flux.defer(() -> {
      AtomicReference<UpdateView> last = new AtomicReference<>(initial(title));
      return Flux.<UpdateEvent>from(events)
          .map(event -> remember(last, last.get().next(event)))
          .concatWith(Mono.defer(() -> last.get().isFinal() ? Mono.empty()
              : Mono.just(remember(last, last.get().ended()))))
          .onErrorResume(error -> Mono.defer(() -> last.get().isFinal() ? Mono.empty()
              : Mono.just(remember(last, last.get().failed(error)))));
    });
    return throttle(views, every, timer);
  }

  private static UpdateView remember(AtomicReference<UpdateView> last, UpdateView view) {
    last.set(view);
    return view;
  }

  private static Flux<UpdateView> throttle(Flux<UpdateView> views, Duration every, Scheduler timer) {
    if (every.isZero()) {
      return views;
    }
    return views
        .windowUntilChanged(UpdateView::state)
        .concatMap(phase -> phase.publish(p -> Flux.merge(
            p.take(1),
            p.skip(1).sample(Flux.interval(every, every, timer)))));
  }

  /**
   * The whole percent done, rounded down (100 only when every byte is there).
   *
   * @return the percent, or empty when the size is not known
   */
  public OptionalInt percent() {
    if (totalBytes < 0) {
      return OptionalInt.empty();
    }
    if (totalBytes == 0 || bytesDone >= totalBytes) {
      return OptionalInt.of(100);
    }
    return OptionalInt.of((int) Math.min(99, (long) (100.0 * bytesDone / totalBytes)));
  }

  /**
   * Whether the image size is known.
   *
   * @return true when {@code totalBytes} is not unknown
   */
  public boolean isTotalKnown() {
    return totalBytes >= 0;
  }

  /**
   * The time left at the current rate, while running with a known size and a rate.
   *
   * @return the estimate, or empty
   */
  public Optional<Duration> eta() {
    if (state != State.RUNNING || totalBytes < 0 || bytesPerSecond <= 0 || bytesDone >= totalBytes) {
      return Optional.empty();
    }
    double seconds = (totalBytes - bytesDone) / bytesPerSecond;
    return Optional.of(Duration.ofMillis((long) Math.ceil(seconds * 1000)));
  }

  /**
   * Whether the update has ended.
   *
   * @return true in {@code DONE}, {@code FAILED} or {@code ABORTED}
   */
  public boolean isFinal() {
    return state.isFinal();
  }

  /** The view after one more event. */
  UpdateView next(UpdateEvent event) {
    if (isFinal()) {
      return this;
    }
    if (event instanceof UpdateEvent.Resolved) {
      UpdateEvent.Resolved r = (UpdateEvent.Resolved) event;
      String text = r.resumedFrom() > 0
          ? "Resuming at " + HumanUnits.bytes(r.resumedFrom()) + " into slot " + r.slot().label() + "."
          : "Downloading into slot " + r.slot().label() + ".";
      return new UpdateView(title, State.RUNNING, text, r.resumedFrom(), r.totalBytes(), 0, r.slot(), null, null,
          null, merge(warnings, r.warnings()));
    }
    if (event instanceof UpdateEvent.Progress) {
      UpdateEvent.Progress p = (UpdateEvent.Progress) event;
      boolean written = p.isTotalKnown() && p.bytesDone() >= p.totalBytes();
      String text = written ? "Verifying the image" + inSlot() + "." : message;
      return new UpdateView(title, written ? State.VERIFYING : State.RUNNING, text, p.bytesDone(), p.totalBytes(),
          p.bytesPerSecond(), slot, null, null, null, warnings);
    }
    if (event instanceof UpdateEvent.Retrying) {
      UpdateEvent.Retrying r = (UpdateEvent.Retrying) event;
      String text = "Connection trouble; trying again from " + HumanUnits.bytes(r.resumeOffset()) + " (attempt "
          + r.attempt() + ").";
      return new UpdateView(title, State.RUNNING, text, r.resumeOffset(), totalBytes, 0, slot, null, null, null,
          warnings);
    }
    if (event instanceof UpdateEvent.Verified) {
      UpdateEvent.Verified v = (UpdateEvent.Verified) event;
      return new UpdateView(title, State.VERIFYING, "Verified; making slot " + v.slot().label()
          + " the next boot choice.", v.size(), v.size(), 0, v.slot(), v.sha256(), null, null, warnings);
    }
    UpdateEvent.Activated a = (UpdateEvent.Activated) event;
    return new UpdateView(title, State.DONE, "Done: slot " + a.slot().label()
        + " holds the new image and boots next, as a trial.", bytesDone, totalBytes, 0, a.slot(), sha256, null, null,
        warnings);
  }

  /** The view when the events complete. */
  UpdateView ended() {
    if (isFinal()) {
      return this;
    }
    if (sha256 != null && slot != null) {
      return new UpdateView(title, State.DONE, "Done: slot " + slot.label()
          + " holds the verified image; it was not made the boot choice.", bytesDone, totalBytes, 0, slot, sha256,
          null, null, warnings);
    }
    return failedWith(null, "The update ended without verifying an image; nothing was activated. Run it again.");
  }

  /** The view when the events fail. */
  UpdateView failed(Throwable failure) {
    if (isFinal()) {
      return this;
    }
    Throwable error = Exceptions.unwrap(failure);
    if (error instanceof OtaException) {
      OtaException e = (OtaException) error;
      return failedWith(e.detail(), String.valueOf(e.getMessage()));
    }
    String detail = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    return failedWith(null, "The update failed: " + detail + ".");
  }

  /**
   * The family of the failure: the {@code ota} command's exit-code family.
   *
   * @return the reason, or null when the update has not failed
   */
  public OtaException.@Nullable Reason reason() {
    return detail == null ? null : detail.reason();
  }

  private UpdateView failedWith(OtaException.@Nullable Detail why, String sentence) {
    boolean aborted = why == OtaException.Detail.ABORTED;
    return new UpdateView(title, aborted ? State.ABORTED : State.FAILED,
        aborted ? "The update was aborted." : "The update failed.", bytesDone, totalBytes, 0, slot, null, sentence,
        why, warnings);
  }

  private String inSlot() {
    return slot == null ? "" : " in slot " + slot.label();
  }

  private static List<String> merge(List<String> known, List<String> more) {
    if (more.isEmpty() || known.containsAll(more)) {
      return known;
    }
    List<String> all = new ArrayList<>(known);
    for (String w : more) {
      if (!all.contains(w)) {
        all.add(w);
      }
    }
    return all;
  }
}
