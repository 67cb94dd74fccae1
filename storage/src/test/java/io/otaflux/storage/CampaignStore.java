package io.otaflux.storage;

import java.nio.file.Path;

import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.scheduler.Schedulers;

/**
 * A kind of slot store as the I/O-fault campaign drives it: created on a medium, opened again
 * after a reboot, and its slots' bytes read back for the oracle. The file store is here, the
 * bootloader stores (U-Boot environment, grubenv) in {@link BootloaderCampaignStore}: the campaign,
 * its faults and its oracle are the same for every store.
 */
interface CampaignStore {

  /** The directory the campaign's stores live in, on the simulated medium. */
  Path DIR = Path.of("/sim/store");

  /** The capacity of each slot. */
  long CAPACITY = 128 * 1024;

  /** The name given on the command line ({@code --store}). */
  String name();

  /** Creates a store on {@code medium}, or opens the one there (as an init run again after a failure). */
  void create(Medium medium);

  /** Opens the store on {@code medium} (as a new process would), blocking calls on the caller's thread. */
  SlotStore open(Medium medium);

  /** The bytes of a slot as the medium holds them, or null when the slot holds none. */
  byte @Nullable [] slotBytes(CrashMedium medium, SlotId slot);

  /** Puts on a blank medium what the device holds before the store is made (partitions, the bootloader's environment). */
  default void flash(CrashMedium medium) {
  }

  /**
   * The device boots: the store counts ({@code boot()} on {@code faulty}), or the bootloader does (its own writes on
   * {@code device}: power cuts, but not our process's I/O faults).
   *
   * @return the slot booted
   */
  default SlotId boot(Medium faulty, Medium device) {
    SlotId booted = open(faulty).boot().block();
    if (booted == null) {
      throw new IllegalStateException("boot() completed empty");
    }
    return booted;
  }

  /**
   * The bootloader's own view of the store after a reboot (its real tools), against the store's {@code status}: null
   * when they agree, or what differs. A store without a bootloader has nothing to disagree with.
   */
  default @Nullable String bootloaderDisagrees(CrashMedium medium, StoreStatus status) {
    return null;
  }

  /**
   * Whether the next boot is the bootloader's last resort: no slot has attempts left (U-Boot's script gives both 3
   * again and boots the first of {@code BOOT_ORDER}; GRUB's boots its default entry).
   */
  default boolean bootsLastResort(CrashMedium medium) {
    return false;
  }

  /** Whether a boot is the bootloader's (its real tools then check the environment). */
  default boolean hasBootloader() {
    return false;
  }

  /** The file store: two slot files and an atomically replaced boot-state file. */
  CampaignStore FILE = new CampaignStore() {
    @Override
    public String name() {
      return "file";
    }

    @Override
    public void create(Medium medium) {
      FileSlotStore.create(medium, DIR, CAPACITY, FileSlotStore.Existing.OPEN);
    }

    @Override
    public SlotStore open(Medium medium) {
      return FileSlotStore.open(medium, Layout.inDirectory(DIR)).scheduler(Schedulers.immediate());
    }

    @Override
    public byte @Nullable [] slotBytes(CrashMedium medium, SlotId slot) {
      return medium.contents(Layout.inDirectory(DIR).slot(slot));
    }
  };

  /** The bootloader store on a redundant U-Boot environment. */
  CampaignStore UBOOT = new BootloaderCampaignStore(BootloaderSlotStore.Kind.UBOOT);

  /** The bootloader store on a GRUB environment block. */
  CampaignStore GRUB = new BootloaderCampaignStore(BootloaderSlotStore.Kind.GRUB);

  /** Every store the campaign knows, by name. */
  static java.util.List<CampaignStore> all() {
    return java.util.List.of(FILE, UBOOT, GRUB);
  }

  /** The store called {@code name}. */
  static CampaignStore named(String name) {
    return all().stream().filter(s -> s.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no store called " + name + "; known: "
            + all().stream().map(CampaignStore::name).toList()));
  }
}
