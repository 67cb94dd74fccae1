package io.otaflux.lwm2m;

import static io.otaflux.lwm2m.FirmwareMachine.PACKAGE_URI;
import static io.otaflux.lwm2m.FirmwareMachine.PKG_NAME;
import static io.otaflux.lwm2m.FirmwareMachine.PKG_VERSION;
import static io.otaflux.lwm2m.FirmwareMachine.RESULT;
import static io.otaflux.lwm2m.FirmwareMachine.STATE;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.lwm2m.FirmwareMachine.AbortDownload;
import io.otaflux.lwm2m.FirmwareMachine.Activate;
import io.otaflux.lwm2m.FirmwareMachine.Changed;
import io.otaflux.lwm2m.FirmwareMachine.Emit;
import io.otaflux.lwm2m.FirmwareMachine.ForgetPending;
import io.otaflux.lwm2m.FirmwareMachine.Output;
import io.otaflux.lwm2m.FirmwareMachine.Reboot;
import io.otaflux.lwm2m.FirmwareMachine.StartDownload;
import io.otaflux.lwm2m.FirmwareMachine.Step;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Firmware Update machine alone, as values: every transition of OMA's Object 5 state diagram
 * (pull: 0 to 1 on a Package URI, 1 to 2 or back to 0 with a Result, 2 to 3 on Update, 1 or 2 to 0
 * on an empty URI, 3 to 0), where this agent reports Result 1 only once the slot is confirmed and
 * an activation that failed goes to 0 with Result 8; our refusals (4.05, Result 7 or 9 at once);
 * the confirmation or rollback of an executed update; and the outputs each gives, in order.
 */
class FirmwareMachineTest {

  private static final String URL = "https://fw.example.com/gw-2.bin";
  private static final Sha256 DIGEST = Sha256.digest(new byte[] {1, 2, 3});
  private static final UpdateEvent.Verified IMAGE = new UpdateEvent.Verified(SlotId.B, 3, DIGEST);
  private static final PendingUpdate PENDING = new PendingUpdate(SlotId.B, DIGEST, "gw-2.bin", "2.0.0");

  private static final FirmwareMachine IDLE = FirmwareMachine.initial(null);

  private static FirmwareMachine downloading() {
    return IDLE.writeUri(URL).next();
  }

  private static FirmwareMachine downloaded() {
    FirmwareMachine m = downloading();
    m = m.verified(m.run(), IMAGE).next();
    return m.downloadDone(m.run()).next();
  }

  private static FirmwareMachine updating() {
    return downloaded().executeUpdate().next();
  }

  /** Executed, activated, waiting for the confirmation. */
  private static FirmwareMachine pending() {
    return updating().activated(PENDING).next();
  }

  private static Output state(FirmwareState s) {
    return new Emit(new AgentEvent.StateChanged(s));
  }

  private static Output result(FirmwareResult r) {
    return new Emit(new AgentEvent.ResultChanged(r));
  }

  private static StoreStatus store(SlotId active, SlotState b, Sha256 digestOfB) {
    return new StoreStatus(active, active, Map.of(
        SlotId.A, new SlotStatus(SlotId.A, SlotState.GOOD, 1, Sha256.digest(new byte[] {9}), 0, null, 10),
        SlotId.B, new SlotStatus(SlotId.B, b, 3, digestOfB, 0, null, 10)));
  }

  // --- State 0 ------------------------------------------------------------------------------

  @Test
  void aStartingAgentIsIdleWithResult0AndNothingToConfirm() {
    assertThat(IDLE.state()).isEqualTo(FirmwareState.IDLE);
    assertThat(IDLE.result()).isEqualTo(FirmwareResult.INITIAL);
    assertThat(IDLE.packageUri()).isEmpty();
    assertThat(IDLE.toConfirm()).isEmpty();
    assertThat(IDLE.canUpdate()).isFalse();
  }

  @Test
  void aStartingAgentWithAPendingUpdateShowsItsPackageAndWaitsForItsConfirmation() {
    FirmwareMachine m = FirmwareMachine.initial(PENDING);
    assertThat(m.packageName()).isEqualTo("gw-2.bin");
    assertThat(m.packageVersion()).isEqualTo("2.0.0");
    assertThat(m.toConfirm()).contains(PENDING);
  }

  @Test
  void idleAndAnHttpsUriGoesTo1AndStartsTheDownloadAfterTheServerWasTold() {
    Step step = IDLE.writeUri("  " + URL + " ");
    assertThat(step.accepted()).isTrue();
    assertThat(step.next().state()).isEqualTo(FirmwareState.DOWNLOADING);
    assertThat(step.next().packageUri()).isEqualTo(URL);
    assertThat(step.next().run()).isEqualTo(1);
    assertThat(step.outputs()).containsExactly(state(FirmwareState.DOWNLOADING), new Changed(STATE),
        new Changed(PACKAGE_URI), new Changed(PKG_NAME), new Changed(PKG_VERSION),
        new StartDownload(1, URI.create(URL)));
  }

  @Test
  void idleAndAnInvalidUriStays0WithResult7AndStartsNothing() {
    Step step = IDLE.writeUri("https://exa mple.com/fw.bin");
    assertThat(step.accepted()).as("the write is answered 2.04; the Result tells why").isTrue();
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.INVALID_URI);
    assertThat(step.outputs()).startsWith(result(FirmwareResult.INVALID_URI), new Changed(RESULT));
    assertThat(step.outputs()).filteredOn(o -> o instanceof Emit && ((Emit) o).event() instanceof AgentEvent.Failed)
        .hasSize(1);
    assertThat(step.outputs()).noneMatch(o -> o instanceof StartDownload);
  }

  @Test
  void idleAndAPlainHttpUriStays0WithResult9() {
    Step step = IDLE.writeUri("http://fw.example.com/gw-2.bin");
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UNSUPPORTED_PROTOCOL);
    assertThat(step.outputs()).noneMatch(o -> o instanceof StartDownload);
  }

  @Test
  void idleAndAnEmptyUriStays0AndResetsTheResult() {
    FirmwareMachine failed = IDLE.writeUri("http://x/").next();
    Step step = failed.writeUri("");
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.INITIAL);
    assertThat(step.outputs()).contains(result(FirmwareResult.INITIAL)).noneMatch(o -> o instanceof AbortDownload);
  }

  @Test
  void updateIsRefusedIn0() {
    Step step = IDLE.executeUpdate();
    assertThat(step.accepted()).isFalse();
    assertThat(step.next()).isEqualTo(IDLE);
    assertThat(step.outputs()).isEmpty();
  }

  // --- State 1 ------------------------------------------------------------------------------

  @Test
  void downloadingAndTheImageVerifiedGoesTo2() {
    FirmwareMachine m = downloading().verified(1, IMAGE).next();
    assertThat(m.state()).as("verified, not yet ended").isEqualTo(FirmwareState.DOWNLOADING);
    Step step = m.downloadDone(1);
    assertThat(step.next().state()).isEqualTo(FirmwareState.DOWNLOADED);
    assertThat(step.next().canUpdate()).isTrue();
    assertThat(step.outputs()).containsExactly(state(FirmwareState.DOWNLOADED), new Changed(STATE));
  }

  @Test
  void downloadingAndADownloadThatEndedWithoutAVerifiedImageGoesTo0WithResult8() {
    Step step = downloading().downloadDone(1);
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UPDATE_FAILED);
  }

  @ParameterizedTest
  @EnumSource(value = Detail.class, names = {"SLOT_TOO_SMALL", "NOT_HTTPS", "UNTRUSTED_SIGNER", "DOWNGRADE",
      "TRIAL_RUNNING"})
  void downloadingAndAFailureGoesTo0WithTheFailuresResultAndTellsWhy(Detail detail) {
    OtaException failure = OtaException.of(detail, "it failed: " + detail);
    Step step = downloading().downloadFailed(1, failure);
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.of(failure));
    assertThat(step.next().downloaded()).isNull();
    assertThat(step.outputs()).containsSubsequence(new Emit(new AgentEvent.Failed("it failed: " + detail,
        failure.reason())), result(FirmwareResult.of(failure)), state(FirmwareState.IDLE));
  }

  @Test
  void downloadingAndAnEmptyUriAbortsAndGoesTo0OnlyOnceTheAbortEnded() {
    Step cancel = downloading().writeUri("");
    assertThat(cancel.accepted()).isTrue();
    assertThat(cancel.next().state()).isEqualTo(FirmwareState.DOWNLOADING);
    assertThat(cancel.next().packageUri()).isEmpty();
    assertThat(cancel.outputs()).containsExactly(new Changed(PACKAGE_URI), new AbortDownload(1));

    Step aborted = cancel.next().downloadFailed(1, OtaException.of(Reason.ABORTED, "The download was cancelled."));
    assertThat(aborted.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(aborted.next().result()).isEqualTo(FirmwareResult.INITIAL);
    assertThat(aborted.outputs()).containsExactly(state(FirmwareState.IDLE), new Changed(STATE));
  }

  @Test
  void downloadingRefusesAnotherUriAndUpdate() {
    FirmwareMachine m = downloading();
    assertThat(m.writeUri("https://other.example.com/x.bin").accepted()).isFalse();
    assertThat(m.writeUri("https://other.example.com/x.bin").next()).isEqualTo(m);
    assertThat(m.executeUpdate().accepted()).isFalse();
  }

  @Test
  void aSignedManifestNamesThePackage() {
    Step step = downloading().named("gw-2.bin", "2.0.0");
    assertThat(step.next().packageName()).isEqualTo("gw-2.bin");
    assertThat(step.next().packageVersion()).isEqualTo("2.0.0");
    assertThat(step.outputs()).containsExactly(new Changed(PKG_NAME), new Changed(PKG_VERSION));
  }

  @Test
  void theEndOfAnOlderDownloadChangesNothing() {
    FirmwareMachine cancelled = downloading().writeUri("").next()
        .downloadFailed(1, OtaException.of(Reason.ABORTED, "cancelled")).next();
    FirmwareMachine second = cancelled.writeUri(URL).next();
    assertThat(second.run()).isEqualTo(2);
    for (Step stale : List.of(second.verified(1, IMAGE), second.downloadDone(1),
        second.downloadFailed(1, OtaException.of(Reason.NETWORK, "late")))) {
      assertThat(stale.next()).isEqualTo(second);
      assertThat(stale.outputs()).isEmpty();
    }
  }

  // --- State 2 ------------------------------------------------------------------------------

  @Test
  void downloadedAndUpdateGoesTo3AndActivatesTheImageWithItsPackage() {
    FirmwareMachine m = downloaded().named("gw-2.bin", "2.0.0").next();
    Step step = m.executeUpdate();
    assertThat(step.accepted()).isTrue();
    assertThat(step.next().state()).isEqualTo(FirmwareState.UPDATING);
    assertThat(step.next().activating()).isTrue();
    assertThat(step.outputs()).containsExactly(state(FirmwareState.UPDATING), new Changed(STATE),
        new Activate(PENDING));
  }

  @Test
  void downloadedAndAnEmptyUriForgetsTheImageAndGoesTo0() {
    Step step = downloaded().writeUri("");
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().downloaded()).isNull();
    assertThat(step.next().canUpdate()).isFalse();
    assertThat(step.outputs()).noneMatch(o -> o instanceof AbortDownload);
  }

  @Test
  void downloadedAndANewUriDownloadsAgain() {
    Step step = downloaded().writeUri("https://fw.example.com/gw-3.bin");
    assertThat(step.next().state()).isEqualTo(FirmwareState.DOWNLOADING);
    assertThat(step.next().downloaded()).isNull();
    assertThat(step.outputs()).last().isEqualTo(new StartDownload(2, URI.create("https://fw.example.com/gw-3.bin")));
  }

  // --- State 3 ------------------------------------------------------------------------------

  @Test
  void updatingRefusesAUriAndUpdateAndCannotBeCancelled() {
    FirmwareMachine m = updating();
    assertThat(m.writeUri(URL).accepted()).isFalse();
    assertThat(m.executeUpdate().accepted()).isFalse();
    Step cancel = m.writeUri("");
    assertThat(cancel.next().state()).isEqualTo(FirmwareState.UPDATING);
    assertThat(cancel.outputs()).noneMatch(o -> o instanceof AbortDownload || o instanceof Emit);
  }

  @Test
  void updatingAndTheSlotActivatedGoesTo0KeepsThePendingUpdateAndRebootsAfterTheServerWasTold() {
    Step step = updating().activated(PENDING);
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).as("1 only once confirmed").isEqualTo(FirmwareResult.INITIAL);
    assertThat(step.next().pending()).isEqualTo(PENDING);
    assertThat(step.next().toConfirm()).contains(PENDING);
    assertThat(step.outputs()).containsExactly(state(FirmwareState.IDLE), new Changed(STATE), new Reboot());
  }

  @Test
  void updatingAndTheActivationFailedGoesTo0WithResult8AndForgetsThePendingFile() {
    Step step = updating().activationFailed(OtaException.of(Reason.STORAGE, "disk full"));
    assertThat(step.next().state()).isEqualTo(FirmwareState.IDLE);
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UPDATE_FAILED);
    assertThat(step.next().activating()).isFalse();
    assertThat(step.outputs()).last().isEqualTo(new ForgetPending());
  }

  @Test
  void nothingIsConfirmedWhileTheActivationRuns() {
    FirmwareMachine m = FirmwareMachine.initial(PENDING).writeUri("").next();
    assertThat(m.toConfirm()).contains(PENDING);
    assertThat(updating().toConfirm()).isEmpty();
  }

  // --- the executed update's confirmation ---------------------------------------------------

  @Test
  void aConfirmedSlotRunningGivesResult1AndForgetsThePendingFile() {
    Step step = pending().storeRead(PENDING, store(SlotId.B, SlotState.GOOD, DIGEST));
    assertThat(step.next().result()).isEqualTo(FirmwareResult.SUCCESS);
    assertThat(step.next().pending()).isNull();
    assertThat(step.outputs()).containsExactly(result(FirmwareResult.SUCCESS), new Changed(RESULT),
        new ForgetPending());
  }

  @Test
  void aTrialNotYetConfirmedOrAGoodSlotNotRunningChangesNothing() {
    FirmwareMachine m = pending();
    assertThat(m.storeRead(PENDING, store(SlotId.B, SlotState.TRIAL, DIGEST)).outputs()).isEmpty();
    assertThat(m.storeRead(PENDING, store(SlotId.A, SlotState.GOOD, DIGEST)).outputs()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = SlotState.class, names = {"EMPTY", "WRITING", "INVALID"})
  void aRolledBackSlotGivesResult8(SlotState after) {
    Step step = pending().storeRead(PENDING, store(SlotId.A, after, DIGEST));
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UPDATE_FAILED);
    assertThat(step.next().pending()).isNull();
    assertThat(step.outputs()).contains(new Emit(new AgentEvent.Failed("The update in slot b was rolled back.", null)))
        .last().isEqualTo(new ForgetPending());
  }

  @Test
  void anotherImageInTheSlotIsARollbackToo() {
    Step step = pending().storeRead(PENDING, store(SlotId.B, SlotState.GOOD, Sha256.digest(new byte[] {7})));
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UPDATE_FAILED);
  }

  @Test
  void aStatusReadForAnUpdateNoLongerPendingChangesNothing() {
    FirmwareMachine confirmed = pending().storeRead(PENDING, store(SlotId.B, SlotState.GOOD, DIGEST)).next();
    assertThat(confirmed.storeRead(PENDING, store(SlotId.A, SlotState.INVALID, DIGEST)).outputs()).isEmpty();
  }

  @Test
  void aDownloadRefusedWhileTheTrialRunsGives8AndShowsThePendingPackageAgain() {
    FirmwareMachine m = pending().writeUri("https://fw.example.com/gw-3.bin").next();
    assertThat(m.packageName()).isEmpty();
    Step step = m.downloadFailed(m.run(), OtaException.of(Detail.TRIAL_RUNNING, "a trial runs"));
    assertThat(step.next().result()).isEqualTo(FirmwareResult.UPDATE_FAILED);
    assertThat(step.next().packageUri()).isEmpty();
    assertThat(step.next().packageName()).isEqualTo("gw-2.bin");
    assertThat(step.next().packageVersion()).isEqualTo("2.0.0");
    assertThat(step.next().toConfirm()).as("its Result 1 or 8 still comes").contains(PENDING);
  }
}
