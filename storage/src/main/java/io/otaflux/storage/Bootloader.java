package io.otaflux.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * The bootloader's side of an A/B store: its environment, read and changed through RAUC's
 * variables ({@link RaucBootVariables}), so the boot choice and the attempt counting stay with the
 * bootloader. One read-modify-write per call, synced before it returns; a failure leaves the
 * environment as it was (see {@link UbootEnvironment} and {@link GrubEnvironment} for why a power cut
 * does too, and when it does not: a U-Boot environment without a redundant copy).
 *
 * <p><b>Errors:</b> {@link OtaException}: {@code STORE_DAMAGED} for an unreadable environment,
 * {@code NO_SPACE} when the variables do not fit, {@code IO_ERROR} for a missing device or a failing
 * write; each raised before anything is written, except a failing write itself.
 */
final class Bootloader {

  /** Which environment. */
  enum Kind {
    /** U-Boot's environment, located by a {@code fw_env.config}. */
    UBOOT,
    /** GRUB's {@code grubenv}. */
    GRUB
  }

  private final Kind kind;
  private final Medium medium;
  private final @Nullable UbootEnvironment uboot;
  private final @Nullable GrubEnvironment grub;
  private final @Nullable Path lockFile;

  private Bootloader(Kind kind, Medium medium, @Nullable UbootEnvironment uboot, @Nullable GrubEnvironment grub,
      @Nullable Path lockFile) {
    this.kind = kind;
    this.medium = medium;
    this.uboot = uboot;
    this.grub = grub;
    this.lockFile = lockFile;
  }

  /**
   * U-Boot, with the environment where {@code config} says.
   *
   * @param lockFile held during each read-modify-write; libubootenv's {@code fw_setenv} takes
   *     {@code /var/lock/fw_printenv.lock}, so giving that path keeps the two from interleaving; null for none
   */
  static Bootloader uboot(Medium medium, FwEnvConfig config, @Nullable Path lockFile) {
    return new Bootloader(Kind.UBOOT, medium, new UbootEnvironment(medium, config), null, lockFile);
  }

  /** GRUB, with the environment block {@code grubenv}. */
  static Bootloader grub(Medium medium, Path grubenv) {
    return new Bootloader(Kind.GRUB, medium, null, new GrubEnvironment(medium, grubenv), null);
  }

  Kind kind() {
    return kind;
  }

  /**
   * Whether an environment write survives a power cut at any instant. False only for a U-Boot
   * environment with one copy: status and documentation must then say that a cut during an
   * activation, a mark-good or a rollback can leave U-Boot with its default environment.
   */
  boolean isPowerSafe() {
    return uboot == null || uboot.isPowerSafe();
  }

  /** Where the environment lives, for messages: "U-Boot environment on X (redundant: X, Y)". */
  String describe() {
    if (uboot != null) {
      FwEnvConfig c = uboot.config();
      return "U-Boot environment on " + c.copies().get(0).device() + (c.isRedundant() ? " (redundant, with "
          + c.copies().get(1).device() + ")" : " (one copy: a write is not power-safe)");
    }
    return "GRUB environment " + grub().file();
  }

  /** What the bootloader will do next: the order and the attempts left. */
  RaucBootVariables.BootChoice read() {
    return scheme().read(variables()::get);
  }

  /**
   * Makes {@code slot} the next boot with fresh attempts ({@link RaucBootVariables#activate}); {@code good}, when
   * given, becomes the bootloader's last resort ({@link RaucBootVariables#lastResort}) in the same write.
   */
  RaucBootVariables.BootChoice activate(SlotId slot, @Nullable SlotId good) {
    return change("Activating slot " + slot.label(), (s, v) -> with(s.activate(v::get, slot), s, good));
  }

  /**
   * Confirms the running slot ({@link RaucBootVariables#markGood}); {@code good}, when given, becomes the last resort
   * in the same write (the running slot, unless a rollback chose the other).
   */
  RaucBootVariables.BootChoice markGood(SlotId running, @Nullable SlotId good) {
    return change("Marking slot " + running.label() + " good", (s, v) -> with(s.markGood(v::get, running), s,
        good));
  }

  /**
   * Gives up the running slot for the other ({@link RaucBootVariables#rollback}), which becomes the last resort:
   * the given-up slot (about to be written, or failed) is never what the bootloader boots when nothing is left.
   */
  RaucBootVariables.BootChoice rollback(SlotId running) {
    return change("Rolling back from slot " + running.label(), (s, v) -> with(s.rollback(v::get, running), s,
        running.other()));
  }

  /** Takes a slot the bootloader fell back from out of its reach ({@link RaucBootVariables#dropFailed}). */
  RaucBootVariables.BootChoice dropFailed(SlotId failed) {
    return change("Taking slot " + failed.label() + " out of the boot order", (s, v) -> s.dropFailed(v::get, failed));
  }

  /** Makes {@code good} the bootloader's last resort ({@link RaucBootVariables#lastResort}), nothing else. */
  RaucBootVariables.BootChoice lastResort(SlotId good) {
    return change("Making slot " + good.label() + " the bootloader's last resort", (s, v) -> s.lastResort(good));
  }

  private static Map<String, String> with(Map<String, String> changes, RaucBootVariables scheme,
      @Nullable SlotId good) {
    if (good == null) {
      return changes;
    }
    Map<String, String> all = new LinkedHashMap<>(changes);
    all.putAll(scheme.lastResort(good));
    return all;
  }

  /**
   * Changes nothing, but settles the environment: a U-Boot copy left invalid by a write that failed is written
   * over with the environment in force (see {@link UbootEnvironment#update}), so that the failed write cannot
   * reach the device later and change the boot choice.
   */
  RaucBootVariables.BootChoice settle() {
    return change("Checking the bootloader's choice", (s, v) -> Map.of());
  }

  private RaucBootVariables scheme() {
    return kind == Kind.UBOOT ? RaucBootVariables.UBOOT : RaucBootVariables.GRUB;
  }

  private EnvVariables variables() {
    return uboot != null ? uboot.read().variables() : grub().read();
  }

  private GrubEnvironment grub() {
    GrubEnvironment g = grub;
    if (g == null) {
      throw new IllegalStateException("not a GRUB environment");
    }
    return g;
  }

  private RaucBootVariables.BootChoice change(String doing,
      BiFunction<RaucBootVariables, EnvVariables, Map<String, String>> changes) {
    Medium.Lock lock = null;
    try {
      if (lockFile != null) {
        lock = medium.lock(lockFile);
      }
      EnvVariables after;
      if (uboot != null) {
        UbootEnvironment.Loaded current = uboot.read();
        Map<String, @Nullable String> c = new LinkedHashMap<>(changes.apply(scheme(), current.variables()));
        after = uboot.update(c).variables();
      } else {
        EnvVariables current = grub().read();
        after = grub().update(new LinkedHashMap<>(changes.apply(scheme(), current)));
      }
      return scheme().read(after::get);
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, doing + " failed writing the " + describe() + ": " + e.getMessage()
          + ". The bootloader's previous choice stands" + (isPowerSafe() ? "" : " unless the environment was"
          + " damaged (it has one copy)") + "; check the device and try again.", e);
    } finally {
      if (lock != null) {
        lock.release();
      }
    }
  }
}
