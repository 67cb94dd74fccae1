package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import io.otaflux.OtaException;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts the power at every write and sync of a series of environment updates (activate, the
 * bootloader's count-downs, mark-good, rollback, activate again, mark-good) on a redundant U-Boot
 * environment, replays each cut with the unsynced data lost, kept and torn by sector (several ways),
 * and checks that our reader and libubootenv's {@code fw_printenv} agree on what the device finds,
 * that it is the old boot choice or the new one, never neither, and that the environment can be
 * written again. Without redundancy the same cuts can destroy the environment, which is why
 * {@link UbootEnvironment#isPowerSafe()} is false there.
 */
class EnvPowerCutTest {

  private static final Logger log = LoggerFactory.getLogger(EnvPowerCutTest.class);
  private static final int SIZE = 0x4000;
  private static final int TORN_SEEDS = 6;

  @TempDir
  Path dir;

  private static final Path DEVICE = Path.of("/sim/dev/mmcblk0boot1");

  /** One update: the changes it makes to the variables it reads. */
  private record Step(String name, Function<Function<String, @Nullable String>, Map<String, String>> changes) {
  }

  private static List<Step> steps() {
    RaucBootVariables u = RaucBootVariables.UBOOT;
    List<Step> steps = new ArrayList<>();
    steps.add(new Step("activate b", v -> u.activate(v, SlotId.B)));
    steps.add(new Step("U-Boot boots b (B left 2)", v -> Map.of("BOOT_B_LEFT", "2")));
    steps.add(new Step("mark-good b", v -> u.markGood(v, SlotId.B)));
    steps.add(new Step("activate a", v -> u.activate(v, SlotId.A)));
    steps.add(new Step("U-Boot boots a (A left 2)", v -> Map.of("BOOT_A_LEFT", "2")));
    steps.add(new Step("rollback from a", v -> u.rollback(v, SlotId.A)));
    steps.add(new Step("activate a again", v -> u.activate(v, SlotId.A)));
    steps.add(new Step("U-Boot boots a (A left 2)", v -> Map.of("BOOT_A_LEFT", "2")));
    steps.add(new Step("mark-good a", v -> u.markGood(v, SlotId.A)));
    return steps;
  }

  private static FwEnvConfig config(boolean redundant) {
    return FwEnvConfig.parse(DEVICE + " 0x0 0x4000 0x200\n" + (redundant ? DEVICE + " 0x4000 0x4000 0x200\n" : ""),
        Path.of("fw_env.config"));
  }

  /** A device holding the initial environment, synced: slot A good. */
  private static CrashMedium device(CrashMedium medium, boolean redundant) throws Exception {
    try (Medium.Handle h = medium.open(DEVICE, Medium.Mode.CREATE)) {
      h.write(ByteBuffer.allocate(2 * SIZE), 0);
      h.force();
    }
    medium.syncDirectory(Objects.requireNonNull(DEVICE.getParent()));
    // a long first variable puts the boot variables two sectors past the CRC: a torn write can mix them
    new UbootEnvironment(medium, config(redundant)).format(TestVariables.uboot(
        "bootcmd", "run rauc_boot; " + "echo padding; ".repeat(90), "BOOT_ORDER", "A B", "BOOT_A_LEFT", "3",
        "BOOT_B_LEFT", "0", "serial#", "OTA-0042"));
    return medium;
  }

  private static void run(UbootEnvironment env, Step step) throws Exception {
    EnvVariables current = env.read().variables();
    env.update(new LinkedHashMap<>(step.changes().apply(current::get)));
  }

  @Test
  void aPowerCutAtAnyWriteOrSyncOfARedundantEnvironmentLeavesTheOldOrTheNewBootChoiceForUsAndFwPrintenv()
      throws Exception {
    RealTools.require("fw_printenv");
    List<Step> steps = steps();
    // the reference run: the variables after each step, and the operations it took
    CrashMedium reference = CrashMedium.reliable();
    device(reference, true);
    long before = reference.operations();
    List<Map<String, String>> after = new ArrayList<>();
    UbootEnvironment refEnv = new UbootEnvironment(reference, config(true));
    after.add(refEnv.read().variables().asMap());
    for (Step s : steps) {
      run(refEnv, s);
      after.add(refEnv.read().variables().asMap());
    }
    long cutPoints = reference.operations() - before;
    assertThat(cutPoints).as("a write and a sync per step").isEqualTo(2L * steps.size());

    int reboots = 0;
    for (long cut = 1; cut <= cutPoints; cut++) {
      for (CrashMedium.Survival survival : CrashMedium.Survival.values()) {
        int seeds = survival == CrashMedium.Survival.TORN_SECTORS ? TORN_SEEDS : 1;
        for (int seed = 0; seed < seeds; seed++) {
          CrashMedium medium = device(CrashMedium.cuttingAt(Long.MAX_VALUE), true);
          // the cut counts from the first update on
          medium = cutting(medium, before + cut);
          int cutStep = runUntilTheCut(medium, steps);
          CrashMedium rebooted = medium.reboot(survival, cut * 31 + survival.ordinal() * 7 + seed);
          String where = "cut at operation " + cut + " of " + cutPoints + " during \"" + steps.get(cutStep).name()
              + "\", " + survival + (seeds > 1 ? " seed " + seed : "");
          check(rebooted, after.get(cutStep), after.get(cutStep + 1), where);
          reboots++;
        }
      }
    }
    log.info("Environment power cuts: {} cut points (every write and sync of {} updates) replayed {} ways each"
        + " (lost, kept, torn x {}) = {} reboots, each read by us and by fw_printenv", cutPoints, steps.size(),
        2 + TORN_SEEDS, TORN_SEEDS, reboots);
  }

  /** The same device, rebuilt so that its power goes at operation {@code cutAt} counted from its creation. */
  private static CrashMedium cutting(CrashMedium prepared, long cutAt) throws Exception {
    CrashMedium medium = CrashMedium.cuttingAt(cutAt);
    byte[] bytes = Objects.requireNonNull(prepared.contents(DEVICE));
    try (Medium.Handle h = medium.open(DEVICE, Medium.Mode.CREATE)) { // operation 1
      h.write(ByteBuffer.wrap(bytes), 0); // 2
      h.force(); // 3
    }
    medium.syncDirectory(Objects.requireNonNull(DEVICE.getParent())); // 4
    long setup = medium.operations();
    // pad the count so that operation numbers match the reference run's
    for (long i = setup; i < prepared.operations(); i++) {
      try (Medium.Handle h = medium.open(DEVICE, Medium.Mode.WRITE)) {
        h.force();
      }
    }
    return medium;
  }

  private static int runUntilTheCut(CrashMedium medium, List<Step> steps) {
    UbootEnvironment env = new UbootEnvironment(medium, config(true));
    for (int i = 0; i < steps.size(); i++) {
      try {
        run(env, steps.get(i));
      } catch (Throwable e) {
        if (medium.isCut()) {
          return i;
        }
        throw new AssertionError("step \"" + steps.get(i).name() + "\" failed without a power cut", e);
      }
    }
    throw new AssertionError("the steps finished without reaching the cut");
  }

  private void check(CrashMedium medium, Map<String, String> old, Map<String, String> updated, String where)
      throws Exception {
    UbootEnvironment env = new UbootEnvironment(medium, config(true));
    Map<String, String> ours = env.read().variables().asMap();
    assertThat(ours).as(where + ": the old or the new environment").isIn(old, updated);
    RaucBootVariables.BootChoice choice = RaucBootVariables.UBOOT.read(ours::get);
    assertThat(choice).as(where + ": the old or the new boot choice").isIn(
        RaucBootVariables.UBOOT.read(old::get), RaucBootVariables.UBOOT.read(updated::get));
    assertThat(choice.next()).as(where + ": a slot to boot").isPresent();

    // the real tool reads the same bytes the same way
    Path image = dir.resolve("device.img");
    Path cfg = RealTools.redundantEnv(image, Objects.requireNonNull(medium.contents(DEVICE)));
    Map<String, String> theirs = RealTools.fwPrintenv(dir, cfg);
    assertThat(theirs).as(where + ": fw_printenv agrees").containsExactlyInAnyOrderEntriesOf(ours);

    // and the environment takes the next write, which fw_printenv then reads
    env.update(Map.of("after_cut", "written"));
    Files.write(image, Objects.requireNonNull(medium.contents(DEVICE)));
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", cfg.toString(), "-n", "after_cut")).as(where)
        .isEqualTo("written\n");
  }

  @Test
  void withoutRedundancyACutDuringAWriteCanLeaveNoEnvironmentAtAll() throws Exception {
    List<Step> steps = steps();
    int destroyed = 0;
    int cuts = 0;
    for (long cut = 1; cut <= 2; cut++) {
      for (int seed = 0; seed < 8; seed++) {
        CrashMedium prepared = device(CrashMedium.reliable(), false);
        CrashMedium medium = cutting(prepared, prepared.operations() + cut);
        runUntilTheCut(medium, steps.subList(0, 1), false);
        CrashMedium rebooted = medium.reboot(CrashMedium.Survival.TORN_SECTORS, seed);
        cuts++;
        try {
          new UbootEnvironment(rebooted, config(false)).read();
        } catch (OtaException e) {
          assertThat(e.detail()).isEqualTo(OtaException.Detail.STORE_DAMAGED);
          destroyed++;
        }
      }
    }
    assertThat(new UbootEnvironment(CrashMedium.reliable(), config(false)).isPowerSafe()).isFalse();
    assertThat(destroyed).as("torn single-copy writes that left no valid environment, of " + cuts).isPositive();
  }

  private static void runUntilTheCut(CrashMedium medium, List<Step> steps, boolean redundant) {
    UbootEnvironment env = new UbootEnvironment(medium, config(redundant));
    for (Step s : steps) {
      try {
        run(env, s);
      } catch (Throwable e) {
        if (medium.isCut()) {
          return;
        }
        throw new AssertionError(e);
      }
    }
  }
}
