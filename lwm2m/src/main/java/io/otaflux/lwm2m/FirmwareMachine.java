package io.otaflux.lwm2m;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.internal.Redaction;
import io.otaflux.internal.Uris;

import org.jspecify.annotations.Nullable;

/**
 * The State and Update Result machine of the LwM2M Firmware Update object (Object 5, OMA's state
 * diagram, pull over HTTPS), with our refusals. Pure: a value, and every input gives a
 * {@link Step}, the next machine and what the outside should do, in order (events for the agent,
 * resources Leshan should notify, downloads to start or abort, the slot to activate, the pending
 * file to forget, the reboot hook to run). No I/O, no locks, no threads.
 *
 * @param state resource 3
 * @param result resource 5
 * @param packageUri resource 1
 * @param packageName resource 6
 * @param packageVersion resource 7
 * @param run the number of the download the machine waits for; outputs of older ones are ignored
 * @param downloaded the verified image of the download that ended (State 2), or null
 * @param pending the executed update that waits for its confirmation or rollback, or null
 * @param activating whether Update was executed and the activation has not ended
 */
record FirmwareMachine(FirmwareState state, FirmwareResult result, String packageUri, String packageName,
    String packageVersion, long run, UpdateEvent.@Nullable Verified downloaded, @Nullable PendingUpdate pending,
    boolean activating) {

  static final int PACKAGE = 0;
  static final int PACKAGE_URI = 1;
  static final int UPDATE = 2;
  static final int STATE = 3;
  static final int RESULT = 5;
  static final int PKG_NAME = 6;
  static final int PKG_VERSION = 7;

  /**
   * The machine of an agent that starts: State 0, Result 0, and the package of an update that was
   * executed before and still waits for its confirmation.
   */
  static FirmwareMachine initial(@Nullable PendingUpdate pending) {
    return new FirmwareMachine(FirmwareState.IDLE, FirmwareResult.INITIAL, "",
        pending == null ? "" : pending.packageName(), pending == null ? "" : pending.packageVersion(), 0, null,
        pending, false);
  }

  /** What the outside does after a transition, in this order, with no lock held. */
  sealed interface Output {
  }

  /** Tell the agent's subscribers. */
  record Emit(AgentEvent event) implements Output {
  }

  /** Tell Leshan that a resource changed (observers are notified). */
  record Changed(int resource) implements Output {
  }

  /** Start download number {@code run} of {@code uri} (after the previous one has ended). */
  record StartDownload(long run, URI uri) implements Output {
  }

  /** Abort download number {@code run}; the machine hears its end as {@link #downloadFailed}. */
  record AbortDownload(long run) implements Output {
  }

  /** Remember {@code update} in the pending file, then make its slot the trial boot choice. */
  record Activate(PendingUpdate update) implements Output {
  }

  /** Delete the pending file: the update was confirmed, rolled back, or never activated. */
  record ForgetPending() implements Output {
  }

  /** Run the reboot hook: the slot is the trial boot choice. */
  record Reboot() implements Output {
  }

  /**
   * A transition.
   *
   * @param next the machine after it
   * @param outputs what the outside does, in order
   * @param accepted false when the input was refused in this state (the server is told 4.05)
   */
  record Step(FirmwareMachine next, List<Output> outputs, boolean accepted) {
  }

  /** Whether Update may be executed now (State 2 with a verified image). */
  boolean canUpdate() {
    return state == FirmwareState.DOWNLOADED && downloaded != null;
  }

  /** The executed update whose confirmation the store should be read for, if any. */
  Optional<PendingUpdate> toConfirm() {
    return activating ? Optional.empty() : Optional.ofNullable(pending);
  }

  // --- inputs -----------------------------------------------------------------------------

  /**
   * The server wrote the Package URI. Empty: cancel (abort a download, or forget a downloaded
   * image). Refused while a download or update runs. Text that is not an https URL: Result 7 or 9
   * at once. Else State 1 and a download.
   */
  Step writeUri(String written) {
    String uri = written.strip();
    if (uri.isEmpty()) {
      return cancel();
    }
    if (state == FirmwareState.DOWNLOADING || state == FirmwareState.UPDATING) {
      return refused();
    }
    // a pending update (activated, not yet confirmed or rolled back) keeps its record: while its
    // trial runs the boot rules refuse this download, and its Update Result (1 or 8) still comes
    Tx tx = new Tx(this);
    tx.packageUri = uri;
    tx.packageName = "";
    tx.packageVersion = "";
    tx.downloaded = null;
    URI parsed;
    try {
      parsed = checkPackageUri(uri);
    } catch (OtaException refused) {
      tx.result(FirmwareResult.of(refused)).state(FirmwareState.IDLE).failed(refused)
          .changed(PACKAGE_URI, PKG_NAME, PKG_VERSION);
      return tx.step();
    }
    tx.run = run + 1;
    tx.result(FirmwareResult.INITIAL).state(FirmwareState.DOWNLOADING).changed(PACKAGE_URI, PKG_NAME, PKG_VERSION);
    // the server is told State 1 before the download can end (a failure at once would otherwise
    // change the state back before the notification reads it)
    return tx.then(new StartDownload(tx.run, parsed)).step();
  }

  private Step cancel() {
    Tx tx = new Tx(this);
    tx.packageUri = "";
    if (state == FirmwareState.DOWNLOADING) {
      // State 0 once the abort has completed: see downloadFailed
      return tx.changed(PACKAGE_URI).then(new AbortDownload(run)).step();
    }
    if (state == FirmwareState.UPDATING) {
      return tx.changed(PACKAGE_URI).step(); // too late to cancel: the activation finishes
    }
    tx.run = run + 1;
    tx.downloaded = null;
    tx.packageName = "";
    tx.packageVersion = "";
    return tx.result(FirmwareResult.INITIAL).state(FirmwareState.IDLE).changed(PACKAGE_URI, PKG_NAME, PKG_VERSION)
        .step();
  }

  /** Download {@code run} verified its image (it is in the slot, not activated). */
  Step verified(long run, UpdateEvent.Verified image) {
    if (run != this.run) {
      return unchanged();
    }
    Tx tx = new Tx(this);
    tx.downloaded = image;
    return tx.step();
  }

  /** A signed manifest named the package and its version. */
  Step named(String name, String version) {
    Tx tx = new Tx(this);
    tx.packageName = name;
    tx.packageVersion = version;
    return tx.changed(PKG_NAME, PKG_VERSION).step();
  }

  /** Download {@code run} completed: State 2, or a failure when it verified no image. */
  Step downloadDone(long run) {
    if (run != this.run) {
      return unchanged();
    }
    if (downloaded == null) {
      return downloadFailed(run, OtaException.of(Reason.STORAGE, "The download ended without a verified image."));
    }
    return new Tx(this).state(FirmwareState.DOWNLOADED).step();
  }

  /** Download {@code run} failed or was aborted: State 0 and the failure's Update Result. */
  Step downloadFailed(long run, OtaException failure) {
    if (run != this.run) {
      return unchanged();
    }
    Tx tx = new Tx(this);
    tx.downloaded = null;
    if (failure.reason() == Reason.ABORTED) {
      tx.packageUri = "";
      return tx.result(FirmwareResult.INITIAL).state(FirmwareState.IDLE).step();
    }
    PendingUpdate p = pending;
    if (p != null && (failure.detail() == Detail.TRIAL_RUNNING || failure.detail() == Detail.REBOOT_PENDING)) {
      // refused before a byte was written: the pending update's package is still what the device holds
      tx.packageUri = "";
      tx.packageName = p.packageName();
      tx.packageVersion = p.packageVersion();
      tx.changed(PACKAGE_URI, PKG_NAME, PKG_VERSION);
    }
    return tx.failed(failure).result(FirmwareResult.of(failure)).state(FirmwareState.IDLE).step();
  }

  /** The server executed Update: allowed in State 2 only; State 3 and the activation. */
  Step executeUpdate() {
    UpdateEvent.Verified image = downloaded;
    if (state != FirmwareState.DOWNLOADED || image == null) {
      return refused();
    }
    PendingUpdate update = new PendingUpdate(image.slot(), image.sha256(), packageName, packageVersion);
    Tx tx = new Tx(this);
    tx.activating = true;
    return tx.state(FirmwareState.UPDATING).then(new Activate(update)).step();
  }

  /** The slot of {@code update} is the trial boot choice: State 0, the reboot hook. */
  Step activated(PendingUpdate update) {
    Tx tx = new Tx(this);
    tx.pending = update;
    tx.activating = false;
    tx.downloaded = null;
    return tx.state(FirmwareState.IDLE).then(new Reboot()).step();
  }

  /** The activation failed: Result 8, State 0, nothing pending. */
  Step activationFailed(OtaException failure) {
    Tx tx = new Tx(this);
    tx.activating = false;
    tx.downloaded = null;
    return tx.then(new ForgetPending()).failed(failure).result(FirmwareResult.UPDATE_FAILED)
        .state(FirmwareState.IDLE).step();
  }

  /**
   * The store as read while {@code expected} was pending: Result 1 once its slot is good and
   * running, 8 once it is neither trial nor good; else nothing yet.
   */
  Step storeRead(PendingUpdate expected, StoreStatus status) {
    if (!expected.equals(pending) || activating) {
      return unchanged();
    }
    SlotStatus slot = status.slot(expected.slot());
    boolean sameImage = slot.digest().map(expected.sha256()::equals).orElse(false);
    if (sameImage && slot.state() == SlotState.TRIAL) {
      return unchanged(); // not confirmed yet
    }
    if (sameImage && slot.state() == SlotState.GOOD) {
      if (status.active() != expected.slot()) {
        return unchanged(); // good but not running: a rollback to it would be odd; wait for the boot
      }
      Tx tx = new Tx(this);
      tx.pending = null;
      return tx.then(new ForgetPending()).result(FirmwareResult.SUCCESS).step();
    }
    Tx tx = new Tx(this);
    tx.pending = null;
    return tx.then(new ForgetPending())
        .failed("The update in slot " + expected.slot().label() + " was rolled back.", null)
        .result(FirmwareResult.UPDATE_FAILED).step();
  }

  private Step unchanged() {
    return new Step(this, List.of(), true);
  }

  private Step refused() {
    return new Step(this, List.of(), false);
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

  /** One transition being written: a copy of the machine's fields and the outputs so far. */
  private static final class Tx {
    private FirmwareState state;
    private FirmwareResult result;
    private String packageUri;
    private String packageName;
    private String packageVersion;
    private long run;
    private UpdateEvent.@Nullable Verified downloaded;
    private @Nullable PendingUpdate pending;
    private boolean activating;
    private final List<Output> outputs = new ArrayList<>();
    private final List<Output> after = new ArrayList<>();

    Tx(FirmwareMachine m) {
      state = m.state;
      result = m.result;
      packageUri = m.packageUri;
      packageName = m.packageName;
      packageVersion = m.packageVersion;
      run = m.run;
      downloaded = m.downloaded;
      pending = m.pending;
      activating = m.activating;
    }

    Tx state(FirmwareState next) {
      FirmwareState before = state;
      state = next;
      return before == next ? this : announce(new AgentEvent.StateChanged(next), STATE);
    }

    Tx result(FirmwareResult next) {
      FirmwareResult before = result;
      result = next;
      return before == next ? this : announce(new AgentEvent.ResultChanged(next), RESULT);
    }

    /** A resource's value changed: the agent's subscribers and Leshan are told. */
    private Tx announce(AgentEvent event, int resource) {
      outputs.add(new Emit(event));
      return changed(resource);
    }

    Tx failed(OtaException failure) {
      return failed(Objects.requireNonNullElse(failure.getMessage(), failure.toString()), failure.reason());
    }

    Tx failed(String message, @Nullable Reason reason) {
      outputs.add(new Emit(new AgentEvent.Failed(message, reason)));
      return this;
    }

    Tx changed(int... resources) {
      for (int r : resources) {
        Changed c = new Changed(r);
        if (!outputs.contains(c)) {
          outputs.add(c);
        }
      }
      return this;
    }

    /** An effect that comes after every event and notification of this transition. */
    Tx then(Output effect) {
      after.add(effect);
      return this;
    }

    Step step() {
      List<Output> all = new ArrayList<>(outputs);
      all.addAll(after);
      return new Step(new FirmwareMachine(state, result, packageUri, packageName, packageVersion, run, downloaded,
          pending, activating), List.copyOf(all), true);
    }
  }
}
