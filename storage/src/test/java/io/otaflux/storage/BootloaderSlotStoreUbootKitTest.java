package io.otaflux.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.testkit.SlotStoreCompatibilityKit;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility kit on a bootloader store: slots in files, a redundant U-Boot environment in
 * a file. A boot is what the device does: RAUC's U-Boot script counts down and falls back
 * ({@link TestBootloader}), the kernel gets the slot it chose, and a healthy boot of a slot that
 * is good already is confirmed ({@code ota mark-good}, as RAUC's mark-good service does).
 */
class BootloaderSlotStoreUbootKitTest extends SlotStoreCompatibilityKit {

  @TempDir
  Path dir;

  int stores;

  @Override
  protected SlotStore newStore(long capacity) {
    try {
      Path d = Files.createDirectories(dir.resolve("s" + stores++));
      return BootloaderSlotStore.create(FileMedium.INSTANCE, d.resolve("data"), setup(d, true).withCapacity(capacity),
          false, d.resolve("no-mountinfo"), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Files for the slots, a U-Boot environment as RAUC's script finds it, the command line naming A. */
  static BootloaderSlotStore.Setup setup(Path d, boolean redundant) throws IOException {
    Files.write(d.resolve("slot-a.img"), new byte[0]);
    Files.write(d.resolve("slot-b.img"), new byte[0]);
    Path env = d.resolve("env.img");
    Files.write(env, new byte[0x8000]);
    Path cfg = d.resolve("fw_env.config");
    Files.writeString(cfg, env + " 0x0 0x4000\n" + (redundant ? env + " 0x4000 0x4000\n" : ""));
    Map<String, @Nullable String> initial = new LinkedHashMap<>();
    initial.put("bootdelay", "2");
    initial.put("BOOT_ORDER", "A B");
    initial.put("BOOT_A_LEFT", "3");
    initial.put("BOOT_B_LEFT", "3");
    new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(cfg)).format(EnvVariables.empty().with(initial,
        UbootEnvironment::entry));
    Path cmdline = d.resolve("cmdline");
    Files.writeString(cmdline, "console=ttyAMA0 rauc.slot=A\n");
    return BootloaderSlotStore.Setup.uboot(cfg, d.resolve("slot-a.img"), d.resolve("slot-b.img"))
        .withCmdline(cmdline);
  }

  @Override
  protected SlotStore reopen(SlotStore store) {
    return BootloaderSlotStore.open(FileMedium.INSTANCE, ((BootloaderSlotStore) store).dataDir(),
        Path.of("/nonexistent"), null);
  }

  @Override
  protected SlotId bootOnce(SlotStore store) {
    BootloaderSlotStore s = (BootloaderSlotStore) store;
    try {
      SlotId booted = TestBootloader.bootUboot(FileMedium.INSTANCE, FwEnvConfig.read(s.setup().environment()),
          s.setup().cmdline());
      confirmIfGood(reopen(store));
      return booted;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A healthy boot of a good slot is confirmed, as RAUC's mark-good service does on every boot. */
  static void confirmIfGood(SlotStore store) {
    io.otaflux.StoreStatus status = store.status().block(TIMEOUT);
    if (status.slot(status.active()).state() == SlotState.GOOD) {
      store.markGood().block(TIMEOUT);
    }
  }
}
