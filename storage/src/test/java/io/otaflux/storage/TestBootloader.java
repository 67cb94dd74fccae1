package io.otaflux.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * A test-side bootloader: what RAUC's documented boot scripts do to the environment at power-on,
 * then the running slot handed to the kernel (the command line file). U-Boot: the first slot of
 * {@code BOOT_ORDER} with attempts left is counted down and booted; with none left both counters
 * become 3 and the board resets. GRUB: the first slot of {@code ORDER} with {@code _OK=1} and
 * {@code _TRY=0} gets {@code _TRY=1} and boots; with none, the default entry: RAUC's {@code grub.cfg} sets
 * {@code default=0} (slot A) before its {@code load_env}, so a {@code default} in grubenv wins (README, "The boot
 * script"). Not modelled: the newer script's re-arming of {@code _OK=1} slots' {@code _TRY} when none was found.
 */
final class TestBootloader {

  private TestBootloader() {
  }

  /** RAUC's U-Boot script on the environment {@code config} locates; returns the slot booted. */
  static SlotId bootUboot(Medium medium, FwEnvConfig config, Path cmdline) throws IOException {
    UbootEnvironment env = new UbootEnvironment(medium, config);
    for (int reset = 0; reset < 2; reset++) {
      Map<String, String> v = env.read().variables().asMap();
      String order = v.getOrDefault("BOOT_ORDER", "");
      for (String name : (order.isEmpty() ? "A B" : order).split(" ")) {
        if (!name.equals("A") && !name.equals("B")) {
          continue;
        }
        String leftName = "BOOT_" + name + "_LEFT";
        String raw = v.get(leftName);
        long left = raw == null || raw.isEmpty() ? 3 : RaucBootVariables.strtoull(raw, 16);
        if (left > 0) {
          Map<String, @Nullable String> change = new LinkedHashMap<>();
          change.put(leftName, Long.toHexString(left - 1));
          env.update(change);
          SlotId slot = name.equals("A") ? SlotId.A : SlotId.B;
          Files.writeString(cmdline, "console=ttyAMA0 root=/dev/vda rauc.slot=" + name + " rw\n", StandardCharsets.UTF_8);
          return slot;
        }
      }
      Map<String, @Nullable String> change = new LinkedHashMap<>();
      change.put("BOOT_A_LEFT", "3");
      change.put("BOOT_B_LEFT", "3");
      env.update(change);
    }
    throw new AssertionError("U-Boot found no slot to boot after a reset");
  }

  /** RAUC's GRUB script on {@code grubenv}; returns the slot booted. */
  static SlotId bootGrub(Medium medium, Path grubenv, Path cmdline) throws IOException {
    GrubEnvironment env = new GrubEnvironment(medium, grubenv);
    Map<String, String> v = env.read().asMap();
    String booted = null;
    for (String name : v.getOrDefault("ORDER", "A B").split(" ")) {
      if ((name.equals("A") || name.equals("B")) && "1".equals(v.get(name + "_OK"))
          && "0".equals(v.getOrDefault(name + "_TRY", "0"))) {
        Map<String, @Nullable String> change = new LinkedHashMap<>();
        change.put(name + "_TRY", "1");
        env.update(change);
        booted = name;
        break;
      }
    }
    if (booted == null) {
      booted = "1".equals(v.getOrDefault("default", "0").strip()) ? "B" : "A"; // the default entry
    }
    Files.writeString(cmdline, "BOOT_IMAGE=/vmlinuz rauc.slot=" + booted + " ro\n", StandardCharsets.UTF_8);
    return booted.equals("A") ? SlotId.A : SlotId.B;
  }
}
