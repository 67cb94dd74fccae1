package io.otaflux.storage;

import java.nio.file.Path;

import io.otaflux.SlotId;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.scheduler.Schedulers;

/**
 * A kind of slot store as the I/O-fault campaign drives it: created on a medium, opened again
 * after a reboot, and its slots' bytes read back for the oracle. The file store is here; a
 * bootloader-backed store (U-Boot environment file, grubenv) plugs in by implementing this over
 * the same {@link Medium} and being added to {@link #all()}: the campaign, its faults and its
 * oracle are the same for every store.
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

  /** Every store the campaign knows, by name. */
  static java.util.List<CampaignStore> all() {
    return java.util.List.of(FILE);
  }

  /** The store called {@code name}. */
  static CampaignStore named(String name) {
    return all().stream().filter(s -> s.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no store called " + name + "; known: "
            + all().stream().map(CampaignStore::name).toList()));
  }
}
