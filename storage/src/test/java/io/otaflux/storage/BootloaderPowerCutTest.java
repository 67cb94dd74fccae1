package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts the power at every write and sync of a device's life with a bootloader store on a
 * redundant U-Boot environment: an update of slot b (journal syncs, commit), its activation, the
 * bootloader's boots, mark-good, a rollback and the confirmation of the good slot. Each cut is
 * replayed with the unsynced data lost, kept and torn; then the power comes back:
 * <ul>
 *   <li>{@code fw_printenv} and our reader agree on the environment, and the boot choice is the
 *       one before the interrupted step or the one after it, never neither;</li>
 *   <li>every slot the bootloader could boot (attempts left) holds a whole image, never a partly
 *       written one;</li>
 *   <li>the bootloader boots (RAUC's script), and {@code status} tells it truthfully: the running
 *       slot is the one booted, and it is {@code good} or {@code trial}; the rules' prediction of
 *       the following boot from that status is what the bootloader then does.</li>
 * </ul>
 */
class BootloaderPowerCutTest {

  private static final Logger log = LoggerFactory.getLogger(BootloaderPowerCutTest.class);
  private static final Duration T = Duration.ofSeconds(10);
  private static final Path ENV = Path.of("/sim/dev/mmcblk0boot1");
  private static final Path SLOT_A = Path.of("/sim/dev/mmcblk0p2");
  private static final Path SLOT_B = Path.of("/sim/dev/mmcblk0p3");
  private static final Path DATA = Path.of("/sim/data/ota");
  private static final byte[] FACTORY = "factory image of slot a".getBytes(StandardCharsets.US_ASCII);
  private static final int TORN_SEEDS = 3;

  @TempDir
  Path dir;

  private final byte[] image = new byte[3 * 4096 + 100];

  {
    new Random(5).nextBytes(image);
  }

  private BootloaderSlotStore.Setup setup() throws Exception {
    Path cfg = dir.resolve("fw_env.config");
    Files.writeString(cfg, ENV + " 0x0 0x4000 0x200\n" + ENV + " 0x4000 0x4000 0x200\n");
    return BootloaderSlotStore.Setup.uboot(cfg, SLOT_A, SLOT_B).withCmdline(dir.resolve("cmdline"))
        .withCapacity(64 * 1024);
  }

  /** The device as flashed, everything synced, and the store initialised on it. */
  private void prepare(CrashMedium medium, BootloaderSlotStore.Setup setup) throws Exception {
    medium.createDirectories(Objects.requireNonNull(ENV.getParent()));
    for (Path p : List.of(ENV, SLOT_A, SLOT_B)) {
      try (Medium.Handle h = medium.open(p, Medium.Mode.CREATE)) {
        // the slots are 64 KiB partitions: a holds the factory image, b zeros
        h.write(ByteBuffer.wrap(p == ENV ? new byte[0x8000] : Arrays.copyOf(p == SLOT_A ? FACTORY : new byte[0],
            64 * 1024)), 0);
        h.force();
      }
    }
    medium.syncDirectory(Objects.requireNonNull(ENV.getParent()));
    new UbootEnvironment(medium, FwEnvConfig.read(setup.environment())).format(TestVariables.uboot(
        "bootcmd", "run rauc_boot; " + "echo padding; ".repeat(60), "BOOT_ORDER", "A B", "BOOT_A_LEFT", "3",
        "BOOT_B_LEFT", "3"));
    Files.writeString(setup.cmdline(), "root=/dev/mmcblk0p2 rauc.slot=A\n");
    BootloaderSlotStore.create(medium, DATA, setup, false, dir.resolve("no-mountinfo"), null);
  }

  private BootloaderSlotStore store(Medium medium) {
    return BootloaderSlotStore.open(medium, DATA, dir.resolve("no-mountinfo"), null);
  }

  /** One step of the device's life. */
  private interface Step {
    void run(Medium medium, BootloaderSlotStore.Setup setup) throws Exception;
  }

  private record Named(String name, Step step) {
  }

  private List<Named> story() {
    List<Named> steps = new ArrayList<>();
    Step update = (m, s) -> {
      SlotWriter w = store(m).openWriter(new ImageSpec(URI.create("https://fw.example/b.img"), image.length,
          Sha256.digest(image), "2.0")).block(T);
      for (int at = 0; at < image.length; at += 4096) {
        w.write(ByteBuffer.wrap(image, at, Math.min(4096, image.length - at)));
        w.sync("\"v1\"");
      }
      w.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/b.img"), "2.0"));
      w.release();
    };
    Step activate = (m, s) -> store(m).activate(SlotId.B, Sha256.digest(image)).block(T);
    Step markGood = (m, s) -> store(m).markGood().block(T);
    Step rollback = (m, s) -> store(m).rollback().block(T);
    steps.add(new Named("update slot b", update));
    steps.add(new Named("activate b", activate));
    steps.add(new Named("U-Boot boots b (trial)", BootloaderPowerCutTest::boot));
    steps.add(new Named("rollback of the trial b", rollback));
    steps.add(new Named("U-Boot boots a", BootloaderPowerCutTest::boot));
    steps.add(new Named("mark-good a (every healthy boot)", markGood));
    steps.add(new Named("update slot b again", update));
    steps.add(new Named("activate b again", activate));
    steps.add(new Named("U-Boot boots b (trial)", BootloaderPowerCutTest::boot));
    steps.add(new Named("mark-good of the trial b", markGood));
    steps.add(new Named("U-Boot boots b (good)", BootloaderPowerCutTest::boot));
    steps.add(new Named("rollback of the good b to a", rollback));
    steps.add(new Named("U-Boot boots a", BootloaderPowerCutTest::boot));
    steps.add(new Named("mark-good a (every healthy boot)", markGood));
    return steps;
  }

  private static void boot(Medium m, BootloaderSlotStore.Setup s) throws Exception {
    bootOnce(m, s);
  }

  private static SlotId bootOnce(Medium m, BootloaderSlotStore.Setup s) throws Exception {
    return TestBootloader.bootUboot(m, FwEnvConfig.read(s.environment()), s.cmdline());
  }

  private RaucBootVariables.BootChoice choice(Medium medium, BootloaderSlotStore.Setup setup) {
    return RaucBootVariables.UBOOT.read(new UbootEnvironment(medium, FwEnvConfig.read(setup.environment())).read()
        .variables()::get);
  }

  @Test
  void aPowerCutAtAnyWriteOrSyncLeavesABootableWholeImageTheOldOrNewBootChoiceAndATruthfulStatus()
      throws Exception {
    RealTools.require("fw_printenv");
    BootloaderSlotStore.Setup setup = setup();
    List<Named> story = story();

    // the reference run: the boot choice and the command line before and after each step
    CrashMedium reference = CrashMedium.reliable();
    prepare(reference, setup);
    long base = reference.operations();
    List<@Nullable SlotId> choices = new ArrayList<>();
    List<String> cmdlines = new ArrayList<>();
    choices.add(choice(reference, setup).next().orElse(null));
    cmdlines.add(Files.readString(setup.cmdline()));
    for (Named n : story) {
      n.step().run(reference, setup);
      choices.add(choice(reference, setup).next().orElse(null));
      cmdlines.add(Files.readString(setup.cmdline()));
    }
    long cutPoints = reference.operations() - base;
    assertThat(store(reference).status().block(T).slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
    assertThat(store(reference).status().block(T).next()).isEqualTo(SlotId.A);

    int reboots = 0;
    for (long cut = 1; cut <= cutPoints; cut++) {
      for (CrashMedium.Survival survival : CrashMedium.Survival.values()) {
        int seeds = survival == CrashMedium.Survival.TORN_SECTORS ? TORN_SEEDS : 1;
        for (int seed = 0; seed < seeds; seed++) {
          CrashMedium medium = CrashMedium.cuttingAt(base + cut);
          prepare(medium, setup);
          int step = -1;
          for (int i = 0; i < story.size() && step < 0; i++) {
            try {
              story.get(i).step().run(medium, setup);
            } catch (Throwable e) {
              if (!medium.isCut()) {
                throw new AssertionError("step \"" + story.get(i).name() + "\" failed without a power cut", e);
              }
              step = i;
            }
          }
          assertThat(step).as("cut %d reached", cut).isNotNegative();
          CrashMedium rebooted = medium.reboot(survival, cut * 31 + survival.ordinal() * 7 + seed);
          String where = "cut at operation " + cut + " of " + cutPoints + " during \"" + story.get(step).name() + "\", "
              + survival + (seeds > 1 ? " seed " + seed : "");
          check(rebooted, setup, choices.get(step), choices.get(step + 1), where);
          reboots++;
        }
      }
    }
    String summary = "Bootloader store power cuts: " + cutPoints + " cut points (every create, write, sync, rename"
        + " and directory sync of 2 updates, 2 activations, 5 U-Boot boots, 3 mark-goods, 2 rollbacks) replayed "
        + (2 + TORN_SEEDS) + " ways each = "
        + reboots + " reboots, each read by fw_printenv and our status, booted twice by RAUC's script";
    log.info(summary);
    System.out.println(summary);
    assertThat(cutPoints).isGreaterThan(20);
  }

  private void check(CrashMedium medium, BootloaderSlotStore.Setup setup, @Nullable SlotId old,
      @Nullable SlotId updated, String where) throws Exception {
    // the environment: ours and fw_printenv's read agree; the old or the new choice
    Map<String, String> ours = new UbootEnvironment(medium, FwEnvConfig.read(setup.environment())).read().variables()
        .asMap();
    Path cfg = RealTools.redundantEnv(dir.resolve("env.img"), Objects.requireNonNull(medium.contents(ENV)));
    Map<String, String> theirs = RealTools.fwPrintenv(dir, cfg);
    assertThat(theirs).as(where + ": fw_printenv agrees").containsExactlyInAnyOrderEntriesOf(ours);
    RaucBootVariables.BootChoice choice = RaucBootVariables.UBOOT.read(ours::get);
    assertThat(choice.next()).as(where + ": a slot to boot").isPresent();
    assertThat(choice.next().get()).as(where + ": the old or the new boot choice").isIn(old, updated);

    // every slot the bootloader could boot holds a whole image
    for (SlotId id : SlotId.values()) {
      if (choice.attemptsLeft(id) > 0) {
        byte[] bytes = Objects.requireNonNull(medium.contents(id == SlotId.A ? SLOT_A : SLOT_B), id.label());
        assertThat(Arrays.equals(Arrays.copyOf(bytes, FACTORY.length), FACTORY)
            || Arrays.equals(Arrays.copyOf(bytes, this.image.length), this.image))
            .as(where + ": slot " + id.label() + " can boot and holds a whole image").isTrue();
      }
    }

    // the power comes back: U-Boot boots, and status tells it
    SlotId booted = bootOnce(medium, setup);
    assertThat(booted).as(where).isEqualTo(choice.next().get());
    BootloaderSlotStore store = store(medium);
    StoreStatus status = store.status().block(T);
    assertThat(status.active()).as(where + ": status names the slot booted").isEqualTo(booted);
    assertThat(status.slot(booted).state()).as(where + ": the slot booted is good or a trial")
        .isIn(SlotState.GOOD, SlotState.TRIAL);
    if (status.slot(booted).state() == SlotState.GOOD) {
      store.markGood().block(T); // the device confirms a healthy boot of a good slot
      status = store.status().block(T);
    }
    SlotId predicted = BootRules.boot(status).active();
    assertThat(bootOnce(medium, setup)).as(where + ": the rules' prediction from status is what U-Boot does")
        .isEqualTo(predicted);
  }
}
