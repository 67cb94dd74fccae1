package io.otaflux.manifest;

import java.util.Objects;
import java.util.Optional;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;

import org.jspecify.annotations.Nullable;

/**
 * An offered version compared with the installed one: the answer to "is there something new?"
 * ({@code ota check}) and the anti-rollback rule of {@code ota update --manifest}.
 *
 * <p><b>What counts as installed:</b> the version of the running (active) slot, and of the next
 * boot choice when that is a {@code trial} slot not yet booted (an update waiting for a reboot);
 * the higher of the two by SemVer precedence. A slot without a version (the factory image, or an
 * image installed without a manifest) or whose version is not a semantic version is
 * <i>unknown</i> and counts as older than anything: with no known version installed, every offer
 * is newer. The other slot, when it is neither running nor about to boot, does not count (after a
 * deliberate rollback, the version rolled back to is the installed one).
 *
 * <p>Build metadata is ignored ({@code 2.0.0+b} offers nothing new over {@code 2.0.0+a}).
 */
public final class VersionCheck {

  /** How the offered version compares with the installed one. */
  public enum Outcome {
    /** Higher precedence than the installed version, or nothing known is installed. */
    NEWER,
    /** The same precedence as the installed version: nothing new. */
    SAME,
    /** Lower precedence than the installed version: a downgrade. */
    OLDER
  }

  private final SemanticVersion offered;
  private final @Nullable SemanticVersion installed;
  private final Outcome outcome;

  private VersionCheck(SemanticVersion offered, @Nullable SemanticVersion installed, Outcome outcome) {
    this.offered = offered;
    this.installed = installed;
    this.outcome = outcome;
  }

  /**
   * Compares {@code offered} with what {@code status} says is installed.
   *
   * @param offered the version on offer (a manifest's)
   * @param status the slot store's status
   * @return the comparison
   */
  static VersionCheck of(SemanticVersion offered, StoreStatus status) {
    Objects.requireNonNull(offered, "offered");
    Objects.requireNonNull(status, "status");
    SemanticVersion best = known(status.slot(status.active()));
    SlotId next = status.next();
    if (next != status.active() && status.slot(next).state() == SlotState.TRIAL) {
      SemanticVersion pending = known(status.slot(next));
      if (pending != null && (best == null || pending.isNewerThan(best))) {
        best = pending;
      }
    }
    Outcome outcome;
    if (best == null) {
      outcome = Outcome.NEWER;
    } else {
      int c = offered.compareTo(best);
      outcome = c > 0 ? Outcome.NEWER : c == 0 ? Outcome.SAME : Outcome.OLDER;
    }
    return new VersionCheck(offered, best, outcome);
  }

  private static @Nullable SemanticVersion known(SlotStatus slot) {
    String v = slot.version();
    if (v == null) {
      return null;
    }
    try {
      return SemanticVersion.parse(v);
    } catch (OtaException notSemVer) {
      return null;
    }
  }

  /**
   * The version on offer.
   *
   * @return the offered version
   */
  public SemanticVersion offered() {
    return offered;
  }

  /**
   * The installed version it was compared with.
   *
   * @return the version, or empty when none is known
   */
  public Optional<SemanticVersion> installed() {
    return Optional.ofNullable(installed);
  }

  /**
   * How the versions compare.
   *
   * @return newer, same or older
   */
  public Outcome outcome() {
    return outcome;
  }

  /**
   * Whether the offer is newer than what is installed ({@code ota check} exits 0).
   *
   * @return true for {@link Outcome#NEWER}
   */
  public boolean isNewer() {
    return outcome == Outcome.NEWER;
  }

  /**
   * Whether installing the offer would be a downgrade.
   *
   * @return true for {@link Outcome#OLDER}
   */
  public boolean isDowngrade() {
    return outcome == Outcome.OLDER;
  }

  /**
   * Throws when the offer is a downgrade: the anti-rollback rule.
   *
   * @return this check, when the offer is not a downgrade
   * @throws OtaException reason {@code POLICY} when it is
   */
  VersionCheck refuseDowngrade() {
    if (isDowngrade()) {
      throw OtaException.of(OtaException.Detail.DOWNGRADE, "Downgrade refused: the manifest offers version " + offered
          + ", lower than the installed " + installed + "; nothing was downloaded. Use --allow-downgrade to install it anyway.");
    }
    return this;
  }

  @Override
  public String toString() {
    return "VersionCheck[offered=" + offered + ", installed=" + (installed == null ? "unknown" : installed) + ", "
        + outcome + "]";
  }
}
