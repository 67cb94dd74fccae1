package io.otaflux.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.manifest.VersionCheck.Outcome;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class VersionCheckTest {

  private static SlotStatus slot(SlotId id, SlotState state, @Nullable String version) {
    return new SlotStatus(id, state, 0, null, 0, version, 1024);
  }

  /** Slot a runs and boots next; b as given. */
  private static StoreStatus running(@Nullable String a, SlotState bState, @Nullable String b) {
    return new StoreStatus(SlotId.A, SlotId.A,
        Map.of(SlotId.A, slot(SlotId.A, SlotState.GOOD, a), SlotId.B, slot(SlotId.B, bState, b)));
  }

  private static VersionCheck check(String offered, StoreStatus status) {
    return VersionCheck.of(SemanticVersion.parse(offered), status);
  }

  @Test
  void aHigherVersionThanTheRunningOneIsNewer() {
    VersionCheck c = check("2.0.0", running("1.9.0", SlotState.EMPTY, null));
    assertThat(c.outcome()).isEqualTo(Outcome.NEWER);
    assertThat(c.isNewer()).isTrue();
    assertThat(c.isDowngrade()).isFalse();
    assertThat(c.installed()).contains(SemanticVersion.parse("1.9.0"));
    assertThat(c.refuseDowngrade()).isSameAs(c);
  }

  @Test
  void theSameVersionOffersNothingNew() {
    VersionCheck c = check("2.0.0", running("2.0.0", SlotState.EMPTY, null));
    assertThat(c.outcome()).isEqualTo(Outcome.SAME);
    assertThat(c.isNewer()).isFalse();
    assertThat(c.isDowngrade()).isFalse();
  }

  @Test
  void onlyBuildMetadataDifferingOffersNothingNew() {
    assertThat(check("2.0.0+ci.7", running("2.0.0+ci.6", SlotState.EMPTY, null)).outcome()).isEqualTo(Outcome.SAME);
  }

  @Test
  void aLowerVersionIsADowngradeRefusedWithPolicy() {
    VersionCheck c = check("1.9.0", running("1.10.0", SlotState.EMPTY, null));
    assertThat(c.outcome()).isEqualTo(Outcome.OLDER);
    assertThat(c.isDowngrade()).isTrue();
    assertThatThrownBy(c::refuseDowngrade)
        .isInstanceOf(OtaException.class)
        .satisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.POLICY))
        .hasMessageContaining("Downgrade refused")
        .hasMessageContaining("1.9.0")
        .hasMessageContaining("1.10.0")
        .hasMessageContaining("--allow-downgrade");
  }

  @Test
  void aReleaseCandidateBelowTheInstalledReleaseIsADowngrade() {
    assertThat(check("2.0.0-rc.1", running("2.0.0", SlotState.EMPTY, null)).isDowngrade()).isTrue();
  }

  @Test
  void anInstalledSlotWithoutAVersionCountsAsOlderThanAnything() {
    VersionCheck c = check("0.0.1", running(null, SlotState.EMPTY, null));
    assertThat(c.isNewer()).isTrue();
    assertThat(c.installed()).isEmpty();
  }

  @Test
  void aVersionThatIsNotSemVerCountsAsUnknown() {
    assertThat(check("1.0.0", running("build-1234", SlotState.EMPTY, null)).isNewer()).isTrue();
  }

  @Test
  void aTrialSlotWaitingForTheNextBootCountsAsInstalled() {
    StoreStatus pending = new StoreStatus(SlotId.A, SlotId.B,
        Map.of(SlotId.A, slot(SlotId.A, SlotState.GOOD, "1.0.0"), SlotId.B, slot(SlotId.B, SlotState.TRIAL, "2.0.0")));
    assertThat(check("2.0.0", pending).outcome()).isEqualTo(Outcome.SAME);
    assertThat(check("2.1.0", pending).isNewer()).isTrue();
    assertThat(check("1.5.0", pending).isDowngrade()).isTrue();
  }

  @Test
  void theOtherGoodSlotDoesNotCountAfterARollback() {
    VersionCheck c = check("1.5.0", running("1.0.0", SlotState.GOOD, "2.0.0"));
    assertThat(c.isNewer()).isTrue();
    assertThat(c.installed()).contains(SemanticVersion.parse("1.0.0"));
  }

  @Test
  void theRunningSlotCountsEvenWhileItIsOnTrial() {
    StoreStatus trialRunning = new StoreStatus(SlotId.B, SlotId.B,
        Map.of(SlotId.A, slot(SlotId.A, SlotState.GOOD, "1.0.0"), SlotId.B, slot(SlotId.B, SlotState.TRIAL, "2.0.0")));
    assertThat(check("1.5.0", trialRunning).isDowngrade()).isTrue();
  }
}
