package io.otaflux.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.otaflux.SlotId;

/**
 * The compatibility kit on a bootloader store: slots in files, a redundant U-Boot environment in
 * a file; RAUC's U-Boot script counts down and falls back ({@link TestBootloader#bootUboot}).
 */
class BootloaderSlotStoreUbootKitTest extends BootloaderKitTest {

  @Override
  BootloaderSlotStore.Setup device(Path d) throws IOException {
    return setup(d, true);
  }

  @Override
  SlotId bootloaderBoots(BootloaderSlotStore.Setup setup) throws IOException {
    return TestBootloader.bootUboot(FileMedium.INSTANCE, FwEnvConfig.read(setup.environment()), setup.cmdline());
  }

  /** Files for the slots, a U-Boot environment as RAUC's script finds it, the command line naming A. */
  static BootloaderSlotStore.Setup setup(Path d, boolean redundant) throws IOException {
    Files.write(d.resolve("slot-a.img"), new byte[0]);
    Files.write(d.resolve("slot-b.img"), new byte[0]);
    Path env = d.resolve("env.img");
    Files.write(env, new byte[0x8000]);
    Path cfg = d.resolve("fw_env.config");
    Files.writeString(cfg, env + " 0x0 0x4000\n" + (redundant ? env + " 0x4000 0x4000\n" : ""));
    new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(cfg)).format(TestVariables.uboot(
        "bootdelay", "2", "BOOT_ORDER", "A B", "BOOT_A_LEFT", "3", "BOOT_B_LEFT", "3"));
    Path cmdline = d.resolve("cmdline");
    Files.writeString(cmdline, "console=ttyAMA0 rauc.slot=A\n");
    return BootloaderSlotStore.Setup.uboot(cfg, d.resolve("slot-a.img"), d.resolve("slot-b.img"))
        .withCmdline(cmdline);
  }
}
