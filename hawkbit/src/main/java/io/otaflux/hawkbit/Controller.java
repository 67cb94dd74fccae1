package io.otaflux.hawkbit;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaUpdater;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.internal.Wrapping;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The DDI state machine. Every change of its state happens on one serial loop: the client feeds it
 * messages (poll now, a download ended, the user answered) and it handles one at a time, so it
 * needs no lock and never calls out while holding one. Downloads, the consent question and the
 * reboot hook run beside the loop and report back with a message.
 */
final class Controller {

  private static final Logger log = LoggerFactory.getLogger(Controller.class);

  /** What the loop handles. */
  sealed interface Message {
  }

  /** Poll the server now. */
  record Poll() implements Message {
  }

  /** A download ended: with the verified image, or with an error. */
  record DownloadEnded(long generation, UpdateEvent.@Nullable Verified image, @Nullable Throwable error)
      implements Message {
  }

  /** The consent handler answered. */
  record ConsentAnswered(long actionId, boolean confirmed, @Nullable Throwable error) implements Message {
  }

  /** A download in flight, or done and waiting to be installed (maintenance window, skip). */
  private static final class Running {
    final Deployment deployment;
    final long generation;
    final Sinks.One<Boolean> abort = Sinks.one();
    UpdateEvent.@Nullable Verified image;

    Running(Deployment deployment, long generation) {
      this.deployment = deployment;
      this.generation = generation;
    }
  }

  private final DdiApi api;
  private final OtaUpdater updater;
  private final SlotStore store;
  private final ActionFile actions;
  private final Scheduler work;
  private final Runnable rebootHook;
  private final @Nullable Function<ConsentRequest, Mono<Boolean>> consent;
  private final Consumer<HawkbitEvent> events;
  private final Consumer<Message> send;
  private final Backoff backoff;

  // loop state: read and written only by the loop
  private volatile @Nullable Running running;
  private ActionFile.@Nullable Pending pending;
  private long generation;
  private int failures;
  private final Set<Long> deferred = new HashSet<>();
  private final Set<Long> consentAsked = new HashSet<>();
  /** Actions this client closed: the links of the poll that closed one still name it. */
  private final Set<Long> closed = new HashSet<>();

  Controller(DdiApi api, OtaUpdater updater, SlotStore store, ActionFile actions, Scheduler work, Runnable rebootHook,
      @Nullable Function<ConsentRequest, Mono<Boolean>> consent, Consumer<HawkbitEvent> events,
      Consumer<Message> send, Backoff backoff) {
    this.api = api;
    this.updater = updater.store(store);
    this.store = store;
    this.actions = actions;
    this.work = work;
    this.rebootHook = rebootHook;
    this.consent = consent;
    this.events = events;
    this.send = send;
    this.backoff = backoff;
  }

  /**
   * Handles one message.
   *
   * @return the delay until the next poll for a {@link Poll}, else empty
   */
  Mono<Duration> handle(Message message) {
    if (message instanceof Poll) {
      return poll();
    }
    Mono<Void> done = message instanceof DownloadEnded ? downloadEnded((DownloadEnded) message)
        : consentAnswered((ConsentAnswered) message);
    return done.onErrorResume(e -> {
      log.warn("hawkBit client: {}", e.toString());
      return Mono.empty();
    }).then(Mono.empty());
  }

  /** Aborts a running download (the client stops); the store is left as it was. */
  void abort() {
    Running r = running;
    if (r != null) {
      r.abort.tryEmitValue(Boolean.TRUE);
    }
  }

  // --- the poll ---------------------------------------------------------------------------

  private Mono<Duration> poll() {
    Mono<Void> readActionFile = Mono.defer(() -> pending != null ? Mono.<Void>empty()
        : Mono.fromRunnable(() -> pending = actions.read().orElse(null)).subscribeOn(work).then());
    return readActionFile.then(Mono.defer(() -> api.get(api.base()))).flatMap(base -> act(base.path("_links"))
            .then(Mono.fromSupplier(() -> Backoff.parseSleep(base.path("config").path("polling").path("sleep")
                .asText("00:05:00")))))
        .map(sleep -> {
          failures = 0;
          Duration next = backoff.afterSuccess(sleep);
          events.accept(new HawkbitEvent.Polled(next));
          return next;
        })
        .onErrorResume(e -> {
          OtaException f = Wrapping.wrap(Exceptions.unwrap(e), OtaException.Reason.NETWORK, "Polling hawkBit failed");
          failures++;
          Duration next = backoff.afterFailure(failures, f.retryAfter().orElse(Duration.ZERO));
          log.warn("{} Next poll in {} s.", f.getMessage(), next.toSeconds());
          events.accept(new HawkbitEvent.Failed(f.getMessage() == null ? f.toString() : f.getMessage(), f.detail(),
              next));
          return Mono.just(next);
        });
  }

  private Mono<Void> act(JsonNode links) {
    return checkPending()
        .then(Mono.defer(() -> cancel(links)))
        .then(Mono.defer(() -> configData(links)))
        .then(Mono.defer(() -> confirmation(links)))
        .then(Mono.defer(() -> deployment(links)));
  }

  private static @Nullable URI link(JsonNode links, String name) {
    String href = links.path(name).path("href").asText("");
    try {
      return href.isEmpty() ? null : new URI(href);
    } catch (java.net.URISyntaxException e) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "hawkBit's " + name + " link is not a URL.", e);
    }
  }

  /** The number after {@code /segment/} in a link's path. */
  static long idIn(URI link, String segment) {
    String path = link.getPath();
    int at = path.lastIndexOf("/" + segment + "/");
    if (at < 0) {
      return -1;
    }
    String rest = path.substring(at + segment.length() + 2);
    int slash = rest.indexOf('/');
    try {
      return Long.parseLong(slash < 0 ? rest : rest.substring(0, slash));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // --- mark-good or fallback: the final word on an activated action -----------------------

  private Mono<Void> checkPending() {
    ActionFile.Pending p = pending;
    if (p == null) {
      return Mono.empty();
    }
    return store.status().flatMap(status -> {
      SlotStatus slot = status.slot(p.slot());
      boolean sameImage = slot.digest().map(p.sha256()::equals).orElse(false);
      if (sameImage && slot.state() == SlotState.TRIAL) {
        return Mono.empty(); // not confirmed yet: the device has to boot it and mark it good
      }
      if (sameImage && slot.state() == SlotState.GOOD && status.active() == p.slot()) {
        return finish(p, "closed", "success", List.of("Version " + p.version() + " in slot " + p.slot().label()
            + " was marked good: the device runs it."));
      }
      if (sameImage && slot.state() == SlotState.GOOD) {
        return Mono.empty(); // good but not running yet: wait for the boot
      }
      SlotStatus other = status.slot(p.slot().other());
      return finish(p, "closed", "failure", List.of("Version " + p.version() + " in slot " + p.slot().label()
          + " was not confirmed: the device fell back to slot " + status.active().label() + " ("
          + (other.version() == null ? "the previous image" : "version " + other.version()) + "); slot "
          + p.slot().label() + " is " + slot.state().label() + ".",
          "Boot the new image and run mark-good only when it works; assign the distribution set again to retry."));
    });
  }

  private Mono<Void> finish(ActionFile.Pending p, String execution, String finished, List<String> details) {
    return feedback(p.actionId(), execution, finished, details)
        .onErrorResume(e -> gone(e) ? Mono.empty() : Mono.error(e)) // the action was closed on the server
        .then(Mono.fromRunnable(() -> {
          actions.clear();
          pending = null;
          closed.add(p.actionId());
        }).subscribeOn(work))
        .then();
  }

  private static boolean gone(Throwable e) {
    if (e instanceof OtaException && ((OtaException) e).detail() == Detail.HTTP_STATUS) {
      int status = ((OtaException) e).httpStatus().orElse(0);
      return status == 409 || status == 410 || status == 404;
    }
    return false;
  }

  // --- cancelAction -----------------------------------------------------------------------

  private Mono<Void> cancel(JsonNode links) {
    URI uri = link(links, "cancelAction");
    if (uri == null) {
      return Mono.empty();
    }
    long cancelId = idIn(uri, "cancelAction");
    return api.get(uri).flatMap(answer -> {
      long stopId = answer.path("cancelAction").path("stopId").asLong(cancelId);
      ActionFile.Pending p = pending;
      URI feedback = api.resolve("cancelAction/" + cancelId + "/feedback");
      if (p != null && p.actionId() == stopId) {
        events.accept(new HawkbitEvent.CancelRequested(stopId, false));
        return send(cancelId, feedback, "rejected", "success", List.of("Too late to cancel: version " + p.version()
            + " is activated in slot " + p.slot().label() + " and waits for mark-good; roll back on the device "
            + "(ota rollback) to undo it."));
      }
      Running r = running;
      String what = "nothing of it had started";
      if (r != null && r.deployment.actionId() == stopId) {
        what = r.image == null ? "the download was aborted; the store is as it was"
            : "the downloaded image was not activated; the running image is unchanged";
        r.abort.tryEmitValue(Boolean.TRUE);
        running = null;
      }
      events.accept(new HawkbitEvent.CancelRequested(stopId, true));
      return send(cancelId, feedback, "closed", "success", List.of("Cancelled before activation: " + what + "."));
    });
  }

  // --- configData -------------------------------------------------------------------------

  private Mono<Void> configData(JsonNode links) {
    URI uri = link(links, "configData");
    if (uri == null) {
      return Mono.empty();
    }
    return store.status().flatMap(status -> {
      SlotStatus active = status.slot(status.active());
      Map<String, String> data = new LinkedHashMap<>();
      data.put("firmware.version", active.version() == null ? "" : active.version());
      data.put("slot", status.active().label());
      data.put("slot.next", status.next().label());
      data.put("client", "otaflux");
      return api.put(uri, Map.of("mode", "merge", "data", data));
    });
  }

  // --- confirmationBase (user consent) ----------------------------------------------------

  private Mono<Void> confirmation(JsonNode links) {
    URI uri = link(links, "confirmationBase");
    if (uri == null) {
      return Mono.empty();
    }
    long actionId = idIn(uri, "confirmationBase");
    if (actionId < 0 || consentAsked.contains(actionId)) {
      return Mono.empty();
    }
    return api.get(uri).map(Deployment::parse).doOnNext(d -> {
      consentAsked.add(actionId);
      ConsentRequest request = new ConsentRequest(d.actionId(), d.name(), d.version(), d.size());
      events.accept(new HawkbitEvent.ConsentRequested(request));
      Function<ConsentRequest, Mono<Boolean>> handler = consent;
      if (handler == null) {
        log.info("Action {} waits for consent; no consent handler is set, so it waits for a consent given on "
            + "the server", actionId);
        return;
      }
      // the user may take hours: the loop goes on, the answer comes back as a message
      Mono.defer(() -> handler.apply(request)).subscribeOn(work).subscribe(
          yes -> send.accept(new ConsentAnswered(actionId, Boolean.TRUE.equals(yes), null)),
          error -> send.accept(new ConsentAnswered(actionId, false, error)));
    }).then();
  }

  private Mono<Void> consentAnswered(ConsentAnswered answer) {
    List<String> details = new ArrayList<>();
    if (answer.error() != null) {
      details.add("The consent question failed (" + answer.error() + "); asking again at a later poll.");
      consentAsked.remove(answer.actionId());
      log.warn("The consent handler failed for action {}: {}", answer.actionId(), answer.error().toString());
      return Mono.empty();
    }
    details.add(answer.confirmed() ? "The user consented to the update." : "The user declined the update.");
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("confirmation", answer.confirmed() ? "confirmed" : "denied");
    body.put("details", details);
    return api.post(api.resolve("confirmationBase/" + answer.actionId() + "/feedback"), body)
        .doOnSuccess(v -> events.accept(new HawkbitEvent.FeedbackSent(answer.actionId(),
            answer.confirmed() ? "confirmed" : "denied", "none", details)))
        .doOnError(e -> consentAsked.remove(answer.actionId()));
  }

  // --- deploymentBase ---------------------------------------------------------------------

  private Mono<Void> deployment(JsonNode links) {
    URI uri = link(links, "deploymentBase");
    if (uri == null) {
      return Mono.empty();
    }
    long actionId = idIn(uri, "deploymentBase");
    if (closed.contains(actionId)) {
      return Mono.empty();
    }
    ActionFile.Pending p = pending;
    if (p != null && p.actionId() == actionId) {
      return Mono.empty(); // activated: waiting for mark-good or a fallback
    }
    Running r = running;
    if (r != null && r.deployment.actionId() == actionId) {
      if (r.image == null) {
        return Mono.empty(); // downloading
      }
      // downloaded, waiting for the maintenance window: has it opened?
      return api.get(uri).map(Deployment::parse).flatMap(d -> d.mayInstallNow() ? activate(r) : Mono.empty());
    }
    if (r != null) {
      return Mono.empty(); // another action is running; hawkBit cancels it first
    }
    return api.get(uri).flatMap(answer -> {
      Deployment d;
      try {
        d = Deployment.parse(answer);
      } catch (OtaException e) {
        return send(actionId, "closed", "failure", details(e));
      }
      return start(d);
    });
  }

  private Mono<Void> start(Deployment d) {
    if (!deferred.contains(d.actionId())) {
      events.accept(new HawkbitEvent.DeploymentStarted(d.actionId(), d.version(), d.download(), d.update(),
          d.maintenanceWindow()));
    }
    if (d.download() == HawkbitEvent.Handling.SKIP) {
      return Mono.empty();
    }
    Running r = new Running(d, ++generation);
    running = r;
    UpdateRequest request = UpdateRequest.of(d.uri()).withSize(d.size()).withSha256(d.sha256())
        .withActivation(false);
    if (!d.version().isEmpty()) {
      request = request.withVersion(d.version());
    }
    UpdateRequest withAuth = api.credentialsFor(d.uri()).map(request::withCredentials).orElse(request);
    Mono<Void> announce = deferred.contains(d.actionId()) ? Mono.empty()
        : send(d.actionId(), "proceeding", "none", List.of("Downloading " + d.fileName() + " (" + d.size()
            + " bytes, version " + d.version() + ", " + assignment(d) + ") into the inactive slot."));
    return announce.doOnSuccess(v -> {
      UpdateEvent.Verified[] last = new UpdateEvent.Verified[1];
      updater.update(withAuth, r.abort.asMono())
          .subscribeOn(work)
          .subscribe(e -> {
            if (e instanceof UpdateEvent.Verified) {
              last[0] = (UpdateEvent.Verified) e;
            }
          }, error -> send.accept(new DownloadEnded(r.generation, null, error)),
              () -> send.accept(new DownloadEnded(r.generation, last[0], null)));
    }).doOnError(e -> running = null);
  }

  private static String assignment(Deployment d) {
    switch (d.update()) {
      case SKIP:
        return Boolean.FALSE.equals(d.maintenanceWindow()) ? "installed in the maintenance window"
            : "not installed yet";
      case ATTEMPT:
        return "soft assignment";
      default:
        return "forced assignment";
    }
  }

  private Mono<Void> downloadEnded(DownloadEnded ended) {
    Running r = running;
    if (r == null || r.generation != ended.generation()) {
      return Mono.empty(); // cancelled meanwhile
    }
    Deployment d = r.deployment;
    Throwable error = ended.error();
    if (error != null || ended.image() == null) {
      // hawkBit refuses the artifact of an action being cancelled: look for the cancel before calling it a failure
      return api.get(api.base())
          .flatMap(base -> {
            URI cancel = link(base.path("_links"), "cancelAction");
            return cancel != null ? cancel(base.path("_links")) : Mono.empty();
          })
          .onErrorResume(e -> Mono.empty())
          .then(Mono.defer(() -> running == r ? failed(r, error) : Mono.empty()));
    }
    deferred.remove(d.actionId());
    UpdateEvent.Verified image = ended.image();
    r.image = image;
    List<String> details = new ArrayList<>();
    details.add("Downloaded and verified " + d.fileName() + " (" + image.size() + " bytes, SHA-256 "
        + image.sha256().hex() + ") in slot " + image.slot().label() + ".");
    boolean now = d.mayInstallNow();
    if (!now) {
      details.add(Boolean.FALSE.equals(d.maintenanceWindow())
          ? "The installation waits for the maintenance window." : "The server asked to skip the installation for now.");
    }
    return send(d.actionId(), "downloaded", "none", details).then(Mono.defer(() -> now ? activate(r) : Mono.empty()));
  }

  private Mono<Void> failed(Running r, @Nullable Throwable error) {
    running = null;
    Deployment d = r.deployment;
    OtaException f = error == null ? OtaException.of(Detail.NOT_VERIFIED, "The download ended without a verified "
        + "image.") : Wrapping.wrap(Exceptions.unwrap(error), OtaException.Reason.STORAGE, "The download failed");
    switch (f.detail()) {
      case ABORTED:
        return Mono.empty();
      case TRIAL_RUNNING:
      case REBOOT_PENDING:
      case STORE_BUSY: {
        // not a failure of the action: tried again at every poll until the device is ready
        if (!deferred.add(d.actionId())) {
          return Mono.empty();
        }
        List<String> details = new ArrayList<>(details(f));
        details.add("Deferred: the installation starts once the device is ready (mark-good, rollback or reboot).");
        return send(d.actionId(), "proceeding", "none", details);
      }
      default:
        deferred.remove(d.actionId());
        return send(d.actionId(), "closed", "failure", details(f));
    }
  }

  /** Makes the verified slot the trial boot choice; the action is written down first, so a reboot does not lose it. */
  private Mono<Void> activate(Running r) {
    UpdateEvent.Verified image = r.image;
    if (image == null) {
      return Mono.empty();
    }
    Deployment d = r.deployment;
    ActionFile.Pending p = new ActionFile.Pending(d.actionId(), image.slot(), image.sha256(), d.version());
    running = null;
    return Mono.fromRunnable(() -> actions.write(p)).subscribeOn(work)
        .then(store.activate(image.slot(), image.sha256()))
        .then(Mono.defer(() -> {
          pending = p;
          List<String> details = List.of("Slot " + image.slot().label() + " holds version " + d.version()
              + " as the trial boot choice; success is reported once the device has booted it and marked it good.");
          return send(d.actionId(), "proceeding", "none", details);
        }))
        .doOnSuccess(v -> Mono.fromRunnable(this::runRebootHook).subscribeOn(work).subscribe())
        .onErrorResume(e -> {
          if (pending == p) {
            return Mono.error(e); // activated; only the feedback failed: the next poll carries on
          }
          OtaException f = Wrapping.wrap(Exceptions.unwrap(e), OtaException.Reason.STORAGE,
              "Activating the slot failed");
          return Mono.fromRunnable(actions::clear).subscribeOn(work)
              .then(send(d.actionId(), "closed", "failure", details(f)));
        });
  }

  private void runRebootHook() {
    try {
      rebootHook.run();
    } catch (RuntimeException e) {
      log.warn("The reboot hook failed: {}", e.toString());
      events.accept(new HawkbitEvent.Failed("The reboot hook failed: " + e.getMessage(), Detail.INVALID_REQUEST,
          Duration.ZERO));
    }
  }

  // --- feedback ---------------------------------------------------------------------------

  private Mono<Void> send(long actionId, String execution, String finished, List<String> details) {
    return send(actionId, api.resolve("deploymentBase/" + actionId + "/feedback"), execution, finished, details);
  }

  private Mono<Void> feedback(long actionId, String execution, String finished, List<String> details) {
    return send(actionId, execution, finished, details);
  }

  private Mono<Void> send(long actionId, URI uri, String execution, String finished, List<String> details) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("finished", finished);
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("execution", execution);
    status.put("result", result);
    status.put("details", details);
    return api.post(uri, Map.of("status", status))
        .doOnSuccess(v -> {
          if (execution.equals("closed")) {
            closed.add(actionId);
          }
          events.accept(new HawkbitEvent.FeedbackSent(actionId, execution, finished, details));
        });
  }

  /** What a person reads in hawkBit: the sentence, then the machine-readable detail. */
  static List<String> details(OtaException f) {
    List<String> details = new ArrayList<>();
    details.add(f.getMessage() == null ? f.toString() : f.getMessage());
    details.add("reason: " + f.reason().name().toLowerCase(Locale.ROOT) + ", detail: "
        + f.detail().name().toLowerCase(Locale.ROOT)
        + (f.httpStatus().isPresent() ? ", HTTP " + f.httpStatus().getAsInt() : ""));
    return details;
  }
}
