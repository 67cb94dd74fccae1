package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's entry point to the bootloader, on real files, checked with the real tools. */
class BootloaderTest {

  @TempDir
  Path dir;

  private FwEnvConfig ubootConfig(boolean redundant) throws Exception {
    Path img = dir.resolve("env.img");
    Files.write(img, new byte[0x8000]);
    Path cfg = dir.resolve("fw_env.config");
    Files.writeString(cfg, img + " 0x0 0x4000\n" + (redundant ? img + " 0x4000 0x4000\n" : ""));
    FwEnvConfig config = FwEnvConfig.read(cfg);
    Map<String, @Nullable String> initial = new LinkedHashMap<>();
    initial.put("BOOT_ORDER", "A B");
    initial.put("BOOT_A_LEFT", "3");
    initial.put("BOOT_B_LEFT", "0");
    new UbootEnvironment(FileMedium.INSTANCE, config).format(EnvVariables.empty().with(initial,
        UbootEnvironment::entry));
    return config;
  }

  @Test
  void ubootActivateCountMarkGoodAndRollbackAsFwPrintenvSeesThem() throws Exception {
    RealTools.require("fw_printenv", "fw_setenv");
    FwEnvConfig config = ubootConfig(true);
    Bootloader boot = Bootloader.uboot(FileMedium.INSTANCE, config, dir.resolve("fw_printenv.lock"));
    assertThat(boot.isPowerSafe()).isTrue();
    assertThat(boot.describe()).contains("redundant");
    assertThat(boot.read().next()).contains(SlotId.A);

    RaucBootVariables.BootChoice activated = boot.activate(SlotId.B, null);
    assertThat(activated.next()).contains(SlotId.B);
    String cfg = dir.resolve("fw_env.config").toString();
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", cfg, "BOOT_ORDER", "BOOT_B_LEFT"))
        .isEqualTo("BOOT_ORDER=B A\nBOOT_B_LEFT=3\n");

    // the bootloader counts (here: fw_setenv standing in for U-Boot's setexpr + saveenv)
    RealTools.ok(dir, "fw_setenv", "-c", cfg, "BOOT_B_LEFT", "2");
    assertThat(boot.read().attemptsLeft(SlotId.B)).isEqualTo(2);
    assertThat(boot.markGood(SlotId.B, SlotId.B).attemptsLeft(SlotId.B)).isEqualTo(3);
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", cfg, "-n", "BOOT_B_LEFT")).isEqualTo("3\n");

    RaucBootVariables.BootChoice rolledBack = boot.rollback(SlotId.B);
    assertThat(rolledBack.next()).contains(SlotId.A);
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", cfg, "BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT"))
        .isEqualTo("BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n");
  }

  @Test
  void aSingleCopyUbootEnvironmentSaysItsWritesAreNotPowerSafe() throws Exception {
    Bootloader boot = Bootloader.uboot(FileMedium.INSTANCE, ubootConfig(false), null);
    assertThat(boot.isPowerSafe()).isFalse();
    assertThat(boot.describe()).contains("one copy: a write is not power-safe");
  }

  @Test
  void grubActivateBootMarkGoodAndRollbackAsGrubEditenvSeesThem() throws Exception {
    RealTools.require("grub-editenv");
    Path grubenv = dir.resolve("grubenv");
    RealTools.ok(dir, "grub-editenv", grubenv.toString(), "create");
    RealTools.ok(dir, "grub-editenv", grubenv.toString(), "set", "ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=0",
        "B_TRY=0");
    Bootloader boot = Bootloader.grub(FileMedium.INSTANCE, grubenv);
    assertThat(boot.isPowerSafe()).isTrue();
    assertThat(boot.activate(SlotId.B, null).next()).contains(SlotId.B);
    // GRUB's script sets B_TRY=1 as it boots B (save_env)
    RealTools.ok(dir, "grub-editenv", grubenv.toString(), "set", "B_TRY=1");
    assertThat(boot.read().next()).as("unconfirmed: the next boot falls back").contains(SlotId.A);
    assertThat(boot.markGood(SlotId.B, SlotId.B).next()).contains(SlotId.B);
    assertThat(boot.rollback(SlotId.B).next()).contains(SlotId.A);
    assertThat(RealTools.ok(dir, "grub-editenv", grubenv.toString(), "list"))
        .as("the given-up slot is not GRUB's default entry either: default=0 wins over grub.cfg's")
        .isEqualTo("ORDER=A B\nA_OK=1\nA_TRY=0\nB_OK=0\nB_TRY=0\ndefault=0\n");
  }

  @Test
  void aDamagedEnvironmentIsRefusedBeforeAnythingIsWritten() throws Exception {
    FwEnvConfig config = ubootConfig(true);
    Path img = config.copies().get(0).device();
    byte[] bytes = Files.readAllBytes(img);
    bytes[8] ^= 1;
    bytes[0x4000 + 8] ^= 1;
    Files.write(img, bytes);
    Bootloader boot = Bootloader.uboot(FileMedium.INSTANCE, config, null);
    assertThatThrownBy(() -> boot.activate(SlotId.B, null)).isInstanceOfSatisfying(OtaException.class,
        e -> assertThat(e.detail()).isEqualTo(Detail.STORE_DAMAGED));
    assertThat(Files.readAllBytes(img)).isEqualTo(bytes);
  }
}
