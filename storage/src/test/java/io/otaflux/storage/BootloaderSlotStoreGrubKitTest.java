package io.otaflux.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;

/**
 * The compatibility kit on a bootloader store with a GRUB environment file; a boot runs RAUC's GRUB
 * script ({@link TestBootloader#bootGrub}). GRUB gives a trial one try: after its first boot its
 * attempts are used up, and the next unconfirmed boot falls back; the rest of the rules are the kit's own.
 */
class BootloaderSlotStoreGrubKitTest extends BootloaderKitTest {

  @Override
  BootloaderSlotStore.Setup device(Path d) throws IOException {
    Files.write(d.resolve("slot-a.img"), new byte[0]);
    Files.write(d.resolve("slot-b.img"), new byte[0]);
    Path grubenv = d.resolve("grubenv");
    Files.write(grubenv, GrubEnvironment.encode(TestVariables.grub("ORDER", "A B", "A_OK", "1", "A_TRY", "0",
        "B_OK", "1", "B_TRY", "0"), grubenv));
    Path cmdline = d.resolve("cmdline");
    Files.writeString(cmdline, "BOOT_IMAGE=/vmlinuz rauc.slot=A ro\n", StandardCharsets.UTF_8);
    return BootloaderSlotStore.Setup.grub(grubenv, d.resolve("slot-a.img"), d.resolve("slot-b.img"))
        .withCmdline(cmdline);
  }

  @Override
  SlotId bootloaderBoots(BootloaderSlotStore.Setup setup) throws IOException {
    return TestBootloader.bootGrub(FileMedium.INSTANCE, setup.environment(), setup.cmdline());
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
