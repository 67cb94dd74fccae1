package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;

import org.junit.jupiter.api.Test;

/** Defects the I/O-fault campaign ({@link IoFaultCampaign}) found, each named after what now holds. */
class IoFaultRegressionTest {

  /** A file store whose init failed (EIO) at its directory sync, on {@code crash}: the medium, faults off. */
  private static ChaosMedium afterAnInitWhoseDirectorySyncFailed(CrashMedium crash) {
    ChaosMedium medium = new ChaosMedium(crash, new Random(1), 0).forceNext(ChaosMedium.Fault.EIO_SYNC_DIRECTORY);
    assertThatThrownBy(() -> CampaignStore.FILE.create(medium))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
    return medium;
  }

  /** Campaign seed 19067: init failed at its directory sync; init again opened the store without making it durable. */
  @Test
  void anInitRunAgainAfterItsDirectorySyncFailedMakesTheStoreDurableBeforeUsingIt() {
    CrashMedium crash = CrashMedium.reliable();
    ChaosMedium medium = afterAnInitWhoseDirectorySyncFailed(crash);
    // the user (or openOrInit in an agent) runs init again: it finds the store and uses it
    CampaignStore.FILE.create(medium);
    assertThat(CampaignStore.FILE.open(medium).status().block()).isEqualTo(BootRules.initial(CampaignStore.CAPACITY));
    // the power goes, losing whatever was not synced: the store is still there
    CrashMedium rebooted = crash.reboot(CrashMedium.Survival.NOTHING, 1);
    StoreStatus status = CampaignStore.FILE.open(rebooted).status().block();
    assertThat(status).isEqualTo(BootRules.initial(CampaignStore.CAPACITY));
    assertThat(CampaignStore.FILE.open(rebooted).boot().block()).isEqualTo(SlotId.A);
  }

  /**
   * Left open after seed 19067: an init failed at its directory sync, then a plain open (as {@code ota update}
   * does) used the store; a power cut losing the unsynced directory entries took the whole store with the
   * update it had installed.
   */
  @Test
  void aPlainOpenAfterAnInitWhoseDirectorySyncFailedMakesTheStoreDurableBeforeUsingIt() {
    CrashMedium crash = CrashMedium.reliable();
    ChaosMedium medium = afterAnInitWhoseDirectorySyncFailed(crash);
    byte[] image = new byte[20_000];
    new Random(2).nextBytes(image);
    IoFaultCampaign.install(CampaignStore.FILE.open(medium), image, new Random(3), true);
    CrashMedium rebooted = crash.reboot(CrashMedium.Survival.NOTHING, 1);
    StoreStatus status = CampaignStore.FILE.open(rebooted).status().block();
    assertThat(status).isNotNull();
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(status.slot(SlotId.B).sha256()).isEqualTo(io.otaflux.Sha256.digest(image));
  }

  /**
   * Campaign seeds 19033 and 19064 (store uboot): the power went during {@code init} after the setup was written
   * and before the boot state was; the init run again refused ({@code STORE_EXISTS}) and the store did not open,
   * so the device could not be updated without {@code --force}.
   */
  @Test
  void aBootloaderInitCutShortBeforeItsBootStateIsRunAgainAndCompletes() throws Exception {
    CrashMedium medium = CrashMedium.reliable();
    CampaignStore.UBOOT.flash(medium);
    CampaignStore.UBOOT.create(medium);
    // what the cut leaves: the setup (bootloader.conf) written and synced, no boot state
    Path state = Layout.onDevices(BootloaderCampaignStore.SLOT_A, BootloaderCampaignStore.SLOT_B,
        CampaignStore.DIR).stateFile();
    medium.rename(state, CampaignStore.DIR.resolve("lost"));
    medium.syncDirectory(CampaignStore.DIR);
    assertThatThrownBy(() -> CampaignStore.UBOOT.open(medium).status().block())
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage()).contains("did not complete"));
    CampaignStore.UBOOT.create(medium);
    StoreStatus status = CampaignStore.UBOOT.open(medium).status().block();
    assertThat(status).isNotNull();
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.A).state()).isEqualTo(io.otaflux.SlotState.GOOD);
  }

  /**
   * Campaign seeds 19001 and 19180 (store grub): the good slot was booted and not confirmed, so no slot had
   * {@code _OK=1} and {@code _TRY=0}; GRUB (RAUC's grub.cfg, {@code default=0}) then boots its default entry, slot A,
   * but the status named the first slot of {@code ORDER} as the next boot.
   */
  @Test
  void withNoSlotLeftToTryGrubBootsItsDefaultEntryAndTheStatusSaysSo() {
    java.util.Map<String, String> env = java.util.Map.of("ORDER", "B A", "A_OK", "1", "A_TRY", "1", "B_OK", "1",
        "B_TRY", "1");
    RaucBootVariables.BootChoice choice = RaucBootVariables.GRUB.read(env::get);
    StoreStatus status = BootloaderSlotStore.view(BootState.initial(CampaignStore.CAPACITY, SlotId.B), choice,
        SlotId.B, BootloaderSlotStore.Kind.GRUB);
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(((BootloaderCampaignStore) CampaignStore.GRUB).scriptChoice(env)).isEqualTo(SlotId.A);
  }

  /**
   * Campaign seed 100471 (store uboot): a rollback's environment write failed part-way (ENOSPC after a short write)
   * and was reported as failed, yet the part written held every variable (the rest of the copy was zeros already),
   * so the new copy was valid and the bootloader's choice had changed; a later mark-good then confirmed a slot the
   * bootloader no longer boots, and the next update overwrote the confirmed image.
   */
  @Test
  void aUbootEnvironmentWriteThatFailsPartWayLeavesThePreviousEnvironmentInForce() throws Exception {
    Path config = Files.createTempFile("fw_env", ".config");
    Files.writeString(config, "/sim/env 0x0 0x2000\n/sim/env 0x2000 0x2000\n");
    CrashMedium crash = CrashMedium.reliable();
    try (Medium.Handle h = crash.open(Path.of("/sim/env"), Medium.Mode.CREATE)) {
      h.write(java.nio.ByteBuffer.wrap(new byte[0x4000]), 0);
    }
    UbootEnvironment env = new UbootEnvironment(crash, FwEnvConfig.read(config));
    java.util.Map<String, @org.jspecify.annotations.Nullable String> before = new java.util.LinkedHashMap<>();
    before.put("BOOT_ORDER", "B A");
    env.format(EnvVariables.empty().with(before, UbootEnvironment::entry));
    java.util.Map<String, @org.jspecify.annotations.Nullable String> change = new java.util.LinkedHashMap<>();
    change.put("BOOT_ORDER", "A");
    ChaosMedium shortWrite = new ChaosMedium(crash, new Random(1), 0).forceNext(ChaosMedium.Fault.SHORT_WRITE);
    assertThatThrownBy(() -> new UbootEnvironment(shortWrite, FwEnvConfig.read(config)).update(change))
        .isInstanceOf(java.io.IOException.class);
    assertThat(env.read().variables().asMap()).containsEntry("BOOT_ORDER", "B A");
    Files.delete(config);
  }

  /**
   * Campaign seed 100471 (store uboot), the second half: the rollback's environment write landed but its state-file
   * write failed (ENOSPC), so the running trial b was out of {@code BOOT_ORDER} while still a trial; {@code mark-good}
   * then confirmed b without putting it back first, the device booted a, and the next update overwrote the confirmed
   * image. The whole run now keeps the confirmed image.
   */
  @Test
  void confirmingATrialThatAHalfDoneRollbackTookOutOfTheBootOrderMakesItTheBootChoiceAgain() {
    assertThat(IoFaultCampaign.run(CampaignStore.UBOOT, 100_471).failure()).isNull();
  }

  /**
   * Campaign seed 109397 (store uboot): an activation's environment write failed at its sync, and so did the sync of
   * the write spoiling its CRC, so the new copy (slot b first, 3 attempts) stayed in the page cache under a spoiled
   * one. Reading the previous copy, the next update found b out of the boot order, wrote nothing to the environment
   * and began writing b; a power cut that let the new copy's sectors reach the device, and not the spoiling bytes,
   * made U-Boot boot b while it was being written.
   */
  @Test
  void anUpdateAfterAnActivationWhoseEnvironmentSyncFailedCannotLetUbootBootTheSlotBeingWritten() {
    CrashMedium crash = CrashMedium.reliable();
    CampaignStore.UBOOT.flash(crash);
    CampaignStore.UBOOT.create(crash);
    byte[] image = new byte[20_000];
    new Random(4).nextBytes(image);
    IoFaultCampaign.install(CampaignStore.UBOOT.open(crash), image, new Random(5), false);
    io.otaflux.Sha256 sha = io.otaflux.Sha256.digest(image);
    FaultyMedium failingEnvSync = new FaultyMedium(crash).failingSync(BootloaderCampaignStore.UBOOT_ENV);
    assertThatThrownBy(() -> CampaignStore.UBOOT.open(failingEnvSync).activate(SlotId.B, sha).block())
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
    StoreStatus afterActivation = CampaignStore.UBOOT.open(crash).status().block();
    assertThat(afterActivation).isNotNull();
    assertThat(afterActivation.next()).isEqualTo(SlotId.A);
    // the next update begins writing b (and the power goes before it completes)
    CampaignStore.UBOOT.open(crash).openWriter(new io.otaflux.spi.ImageSpec(java.net.URI.create(
        "https://fw.example/next.bin"), image.length, sha, "next")).block();
    for (long seed = 0; seed < 32; seed++) {
      CrashMedium rebooted = crash.reboot(CrashMedium.Survival.TORN_SECTORS, seed);
      StoreStatus status = CampaignStore.UBOOT.open(rebooted).status().block();
      assertThat(status).isNotNull();
      assertThat(status.slot(SlotId.B).state()).isEqualTo(io.otaflux.SlotState.WRITING);
      assertThat(status.next()).as("the boot choice after the cut (reboot seed %d)", seed).isEqualTo(SlotId.A);
      assertThat(CampaignStore.UBOOT.boot(rebooted, rebooted)).as("U-Boot's boot (reboot seed %d)", seed)
          .isEqualTo(SlotId.A);
    }
  }
}
