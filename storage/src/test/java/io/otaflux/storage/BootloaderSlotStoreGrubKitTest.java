package io.otaflux.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.testkit.SlotStoreCompatibilityKit;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility kit on a bootloader store with a GRUB environment file. A boot is RAUC's GRUB
 * script ({@link TestBootloader#bootGrub}) and, for a slot that is good already, the device's
 * confirmation. GRUB gives a trial one try: after its first boot its attempts are used up, and the
 * next unconfirmed boot falls back; the rest of the rules are the kit's own.
 */
class BootloaderSlotStoreGrubKitTest extends SlotStoreCompatibilityKit {

  @TempDir
  Path dir;

  int stores;

  @Override
  protected SlotStore newStore(long capacity) {
    try {
      Path d = Files.createDirectories(dir.resolve("s" + stores++));
      Files.write(d.resolve("slot-a.img"), new byte[0]);
      Files.write(d.resolve("slot-b.img"), new byte[0]);
      Path grubenv = d.resolve("grubenv");
      Map<String, @Nullable String> initial = new LinkedHashMap<>();
      initial.put("ORDER", "A B");
      initial.put("A_OK", "1");
      initial.put("A_TRY", "0");
      initial.put("B_OK", "1");
      initial.put("B_TRY", "0");
      Files.write(grubenv, GrubEnvironment.encode(EnvVariables.empty().with(initial, GrubEnvironment::line), grubenv));
      Path cmdline = d.resolve("cmdline");
      Files.writeString(cmdline, "BOOT_IMAGE=/vmlinuz rauc.slot=A ro\n", StandardCharsets.UTF_8);
      BootloaderSlotStore.Setup setup = BootloaderSlotStore.Setup.grub(grubenv, d.resolve("slot-a.img"),
          d.resolve("slot-b.img")).withCmdline(cmdline).withCapacity(capacity);
      return BootloaderSlotStore.create(FileMedium.INSTANCE, d.resolve("data"), setup, false, d.resolve("none"), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected SlotStore reopen(SlotStore store) {
    return BootloaderSlotStore.open(FileMedium.INSTANCE, ((BootloaderSlotStore) store).dataDir(), Path.of("/none"),
        null);
  }

  @Override
  protected SlotId bootOnce(SlotStore store) {
    BootloaderSlotStore s = (BootloaderSlotStore) store;
    try {
      SlotId booted = TestBootloader.bootGrub(FileMedium.INSTANCE, s.setup().environment(), s.setup().cmdline());
      BootloaderSlotStoreUbootKitTest.confirmIfGood(reopen(store));
      return booted;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected int trialBoots() {
    return 1;
  }

  @Override
  protected StoreStatus expectedBoot(StoreStatus state) {
    StoreStatus next = BootRules.boot(state);
    SlotStatus booted = next.slot(next.active());
    if (booted.state() != SlotState.TRIAL) {
      return next;
    }
    Map<SlotId, SlotStatus> slots = new EnumMap<>(next.slots());
    slots.put(booted.slot(), new SlotStatus(booted.slot(), SlotState.TRIAL, booted.size(), booted.sha256(),
        BootRules.MAX_TRIAL_BOOTS, booted.version(), booted.capacity()));
    return new StoreStatus(next.active(), next.next(), slots);
  }
}
