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
import io.otaflux.spi.SlotStore;

import org.junit.jupiter.api.Test;

/** Defects the I/O-fault campaign ({@link IoFaultCampaign}) found, each named after what now holds. */
class IoFaultRegressionTest {

  /** The device flashed, the store created, a random 20,000-byte image installed into slot b (and activated). */
  private static byte[] installed(CampaignStore store, CrashMedium device, int seed, boolean activate) {
    store.flash(device);
    store.create(device);
    byte[] image = new byte[20_000];
    new Random(seed).nextBytes(image);
    IoFaultCampaign.install(store.open(device), image, new Random(seed + 1), activate);
    return image;
  }

  /** As {@link #installed}, activated, then booted and confirmed: slot b runs, good. */
  private static byte[] confirmedInB(CampaignStore store, CrashMedium device, int seed) {
    byte[] image = installed(store, device, seed, true);
    assertThat(store.boot(device, device)).isEqualTo(SlotId.B);
    store.open(device).markGood().block();
    return image;
  }

  /** The next update's image (the same bytes again). */
  private static io.otaflux.spi.ImageSpec next(byte[] image) {
    return new io.otaflux.spi.ImageSpec(java.net.URI.create("https://fw.example/next.bin"), image.length,
        io.otaflux.Sha256.digest(image), "next");
  }

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
    byte[] image = installed(CampaignStore.UBOOT, crash, 4, false);
    io.otaflux.Sha256 sha = io.otaflux.Sha256.digest(image);
    FaultyMedium failingEnvSync = new FaultyMedium(crash).failingSync(BootloaderCampaignStore.UBOOT_ENV);
    assertThatThrownBy(() -> CampaignStore.UBOOT.open(failingEnvSync).activate(SlotId.B, sha).block())
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
    StoreStatus afterActivation = CampaignStore.UBOOT.open(crash).status().block();
    assertThat(afterActivation).isNotNull();
    assertThat(afterActivation.next()).isEqualTo(SlotId.A);
    // the next update begins writing b (and the power goes before it completes)
    CampaignStore.UBOOT.open(crash).openWriter(next(image)).block();
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

  /**
   * Campaign seeds 103271 and the 27 "GRUB default entry" runs (store grub): with RAUC's {@code grub.cfg}
   * ({@code default=0}) GRUB boots slot A when no slot is {@code _OK=1} with {@code _TRY=0}, that is after one
   * unconfirmed boot of the confirmed slot; A was then being written, or given up. The store now keeps grubenv's
   * {@code default} on the good slot (it wins over the {@code default=0} set before {@code load_env}), and never on a
   * slot it writes.
   */
  @Test
  void withNoSlotLeftToTryGrubBootsTheConfirmedSlotNotTheOneBeingWritten() {
    CrashMedium device = CrashMedium.reliable();
    byte[] image = confirmedInB(CampaignStore.GRUB, device, 6);
    // the next update begins writing a (and fails, or the power goes)
    CampaignStore.GRUB.open(device).openWriter(next(image)).block();
    // b, confirmed, boots again and is not confirmed (yet): no slot is left to try
    assertThat(CampaignStore.GRUB.boot(device, device)).isEqualTo(SlotId.B);
    StoreStatus status = CampaignStore.GRUB.open(device).status().block();
    assertThat(status).isNotNull();
    assertThat(status.slot(SlotId.A).state()).isEqualTo(io.otaflux.SlotState.WRITING);
    assertThat(CampaignStore.GRUB.bootsLastResort(device)).isTrue();
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(CampaignStore.GRUB.boot(device, device)).as("GRUB's default entry").isEqualTo(SlotId.B);
    assertThat(IoFaultCampaign.run(CampaignStore.GRUB, 103_271).failure()).isNull();
    // found on the way: a mark-good after a rollback (the other slot chosen) must not make the running slot GRUB's
    // default, or the old image the rollback chose is overwritten after the default entry boots the given-up one
    assertThat(IoFaultCampaign.run(CampaignStore.GRUB, 100_288).failure()).isNull();
  }

  /**
   * Campaign seed 101628 (store uboot): trial b booted three times unconfirmed, U-Boot fell back to a; a booted three
   * times unconfirmed too; with no attempts left RAUC's script gives both 3 again and boots the first of
   * {@code BOOT_ORDER}, still the failed trial b. The store now takes a slot U-Boot fell back from out of
   * {@code BOOT_ORDER} at the first open after the fallback, so the reset boots the good slot.
   */
  @Test
  void afterAFallbackTheFailedTrialLeavesTheBootOrderSoACounterResetBootsTheGoodSlot() {
    CrashMedium device = CrashMedium.reliable();
    byte[] image = installed(CampaignStore.UBOOT, device, 8, true);
    for (int i = 0; i < 3; i++) {
      assertThat(CampaignStore.UBOOT.boot(device, device)).as("trial boot %d", i + 1).isEqualTo(SlotId.B);
    }
    assertThat(CampaignStore.UBOOT.boot(device, device)).as("the fallback").isEqualTo(SlotId.A);
    // the first command after the fallback (here a status) opens the store
    StoreStatus status = CampaignStore.UBOOT.open(device).status().block();
    assertThat(status).isNotNull();
    assertThat(status.slot(SlotId.B).state()).isEqualTo(io.otaflux.SlotState.INVALID);
    // a is not confirmed either: it runs out of attempts, and U-Boot resets both counters
    assertThat(CampaignStore.UBOOT.boot(device, device)).isEqualTo(SlotId.A);
    assertThat(CampaignStore.UBOOT.boot(device, device)).isEqualTo(SlotId.A);
    assertThat(CampaignStore.UBOOT.bootsLastResort(device)).isTrue();
    assertThat(CampaignStore.UBOOT.open(device).status().block()).extracting(StoreStatus::next).isEqualTo(SlotId.A);
    assertThat(CampaignStore.UBOOT.boot(device, device)).as("the boot after U-Boot's counter reset")
        .isEqualTo(SlotId.A);
    assertThat(IoFaultCampaign.run(CampaignStore.UBOOT, 101_628).failure()).isNull();
  }

  /**
   * Issue 19, found by analysis (GRUB's grubenv rename whose directory sync fails): an update took slot a out of GRUB's
   * reach ({@code A_OK=0}), the rename landed but the directory sync failed, so the update failed with nothing
   * written. The next update read the renamed block, found a out of reach, wrote nothing to grubenv and began writing
   * a; a power cut then lost the rename, and GRUB's second boot took the half-written a ({@code A_OK=1},
   * {@code A_TRY=0}).
   */
  @Test
  void anUpdateAfterAGrubenvRenameWhoseDirectorySyncFailedCannotLetGrubBootTheSlotBeingWritten() {
    CrashMedium crash = CrashMedium.reliable();
    byte[] image = confirmedInB(CampaignStore.GRUB, crash, 10);
    // the store opened, then the next directory sync (grubenv's, after its rename) fails
    ChaosMedium failingDirSync = new ChaosMedium(crash, new Random(12), 0);
    SlotStore store = CampaignStore.GRUB.open(failingDirSync);
    failingDirSync.forceNext(ChaosMedium.Fault.EIO_SYNC_DIRECTORY);
    assertThatThrownBy(() -> store.openWriter(next(image)).block())
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
    assertThat(failingDirSync.injected()).containsEntry(ChaosMedium.Fault.EIO_SYNC_DIRECTORY, 1);
    CampaignStore.GRUB.open(crash).openWriter(next(image)).block();
    CrashMedium rebooted = crash.reboot(CrashMedium.Survival.NOTHING, 1);
    assertThat(CampaignStore.GRUB.open(rebooted).status().block()).extracting(s -> s.slot(SlotId.A).state())
        .isEqualTo(io.otaflux.SlotState.WRITING);
    assertThat(CampaignStore.GRUB.boot(rebooted, rebooted)).isEqualTo(SlotId.B);
    assertThat(CampaignStore.GRUB.boot(rebooted, rebooted)).as("GRUB's boot after b's unconfirmed one")
        .isEqualTo(SlotId.B);
  }

  /**
   * Campaign seed 109010 (file store): a boot-state write's sync failed and so did the write spoiling it, leaving the
   * new copy valid in the page cache only; the next write went to the other copy, the last durable one, and failed
   * part-way (a short write). The power cut then tore both copies and the store refused to open (STORE_DAMAGED). Now a
   * boot-state write syncs the copy in force before it overwrites the other.
   */
  @Test
  void aBootStateWriteAfterOneWhoseSyncFailedNeverLeavesBothCopiesToAPowerCut() {
    CrashMedium crash = CrashMedium.reliable();
    CampaignStore.FILE.flash(crash);
    CampaignStore.FILE.create(crash);
    Path path = Layout.inDirectory(CampaignStore.DIR).stateFile();
    BootStateFile.Loaded first = new BootStateFile(crash, path).load();
    // a write whose sync fails, and whose spoiling write fails too (the disk is full after the record)
    FaultyMedium failing = new FaultyMedium(crash).failingSync(path)
        .spaceLeft(BootStateFile.encode(first.state(), first.generation() + 1).length);
    assertThatThrownBy(() -> new BootStateFile(failing, path).store(first.state(), first))
        .isInstanceOf(java.io.IOException.class);
    // the next write fails part-way
    ChaosMedium shortWrite = new ChaosMedium(crash, new Random(12), 0).forceNext(ChaosMedium.Fault.SHORT_WRITE);
    BootStateFile.Loaded now = new BootStateFile(shortWrite, path).load();
    assertThatThrownBy(() -> new BootStateFile(shortWrite, path).store(now.state(), now))
        .isInstanceOf(java.io.IOException.class);
    for (long seed = 0; seed < 32; seed++) {
      CrashMedium rebooted = crash.reboot(CrashMedium.Survival.TORN_SECTORS, seed);
      assertThat(new BootStateFile(rebooted, path).load().state()).as("reboot seed %d", seed)
          .isEqualTo(first.state());
    }
    IoFaultCampaign.Run run = IoFaultCampaign.run(CampaignStore.FILE, 109_010);
    assertThat(run.refusedOpen()).as("the store refused to open after the reboot").isFalse();
    assertThat(run.failure()).isNull();
  }

  /**
   * Campaign seeds 101376, 102894 and 106109 (store grub) were counted as lost confirmations: b, confirmed, booted
   * once more without being confirmed again (its mark-good failed), so GRUB's one try per boot fell back to the
   * older good a, the device confirmed a, and the next update wrote over b. That is the bootloader doing its job
   * (the confirmed image failed a boot) and A/B has one slot to write; the oracle now counts such a fallback apart
   * and keeps the image fallen back to from then on, so a store that lost it would still fail here.
   */
  @Test
  void aFallbackFromAConfirmedImageThatBootedUnconfirmedIsTheBootloadersJobAndTheImageFallenBackToIsKept() {
    for (long seed : new long[] {101_376, 102_894, 106_109}) {
      IoFaultCampaign.Run run = IoFaultCampaign.run(CampaignStore.GRUB, seed);
      assertThat(run.failure()).as("seed %d", seed).isNull();
      assertThat(run.fallbacksFromConfirmed()).as("seed %d", seed).isEqualTo(1);
    }
  }
}
