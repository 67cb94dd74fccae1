package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Integration test: Debian's real U-Boot ({@code u-boot-qemu}, build {@code qemu_arm64}) under
 * {@code qemu-system-aarch64} (TCG) boots from the environment our codec wrote into its NOR flash,
 * runs RAUC's documented boot script ({@code rauc-boot.cmd} beside this class) and picks the slot we
 * activated; three unconfirmed boots later it falls back by itself, and our codec reads the
 * environment U-Boot saved; after a mark-good the next boot keeps the slot. The board and the facts
 * of that U-Boot build are {@link QemuUboot}'s; our environment replaces U-Boot's default one, so it
 * carries {@code bootcmd} and {@code bootdelay=0}.
 */
@Tag("integration")
class UbootQemuBootTest {

  private static final Logger log = LoggerFactory.getLogger(UbootQemuBootTest.class);

  @TempDir
  Path dir;

  private QemuUboot qemu;

  @Test
  void realUbootBootsTheActivatedSlotFallsBackAfterThreeUnconfirmedBootsAndKeepsAConfirmedOne() throws Exception {
    RealTools.require("fw_printenv");
    qemu = QemuUboot.board(dir, Duration.ofSeconds(60));
    Path config = qemu.fwEnvConfig();
    UbootEnvironment env = new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(config));
    assertThat(env.isPowerSafe()).as("this U-Boot build keeps one copy").isFalse();

    // the device as installed: slot A good; then "activate b" through RAUC's variables
    env.format(TestVariables.uboot("bootdelay", "0", "BOOT_ORDER", "A B", "BOOT_A_LEFT", "3", "BOOT_B_LEFT", "3",
        "otaflux_envbuf", "0x41000000", "bootcmd", QemuUboot.BOOTCMD, "otaflux_unknown", "kept \"byte for byte\""));
    env.update(changes(RaucBootVariables.UBOOT.activate(vars(env), SlotId.B)));
    assertThat(env.read().variables().get("BOOT_ORDER")).isEqualTo("B A");
    assertThat(env.read().variables().get("BOOT_B_LEFT")).isEqualTo("3");

    // three unconfirmed boots of B, counted down by U-Boot itself
    for (int left = 2; left >= 0; left--) {
      assertThat(boot()).isEqualTo(SlotId.B);
      RaucBootVariables.BootChoice choice = choice(env);
      assertThat(choice.attemptsLeft(SlotId.B)).isEqualTo(left);
    }
    // the fourth: U-Boot falls back to A by itself
    assertThat(boot()).isEqualTo(SlotId.A);
    RaucBootVariables.BootChoice fellBack = choice(env);
    assertThat(fellBack.order()).as("RAUC's script leaves BOOT_ORDER alone").containsExactly(SlotId.B, SlotId.A);
    assertThat(fellBack.attemptsLeft(SlotId.B)).isZero();
    assertThat(fellBack.attemptsLeft(SlotId.A)).isEqualTo(2);
    assertThat(fellBack.next()).contains(SlotId.A);
    assertThat(fellBack.isFallingBack()).isTrue();
    assertThat(env.read().variables().get("otaflux_unknown")).isEqualTo("kept \"byte for byte\"");
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", config.toString(), "BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT"))
        .isEqualTo("BOOT_ORDER=B A\nBOOT_A_LEFT=2\nBOOT_B_LEFT=0\n");

    // mark-good of the running slot (from the command line U-Boot built): the next boot keeps it
    SlotId running = lastRunning;
    env.update(changes(RaucBootVariables.UBOOT.markGood(vars(env), running)));
    assertThat(boot()).isEqualTo(SlotId.A);
    assertThat(choice(env).attemptsLeft(SlotId.A)).isEqualTo(2);

    // activate B again, boot it once, confirm it: the next boot keeps B
    env.update(changes(RaucBootVariables.UBOOT.activate(vars(env), SlotId.B)));
    assertThat(boot()).isEqualTo(SlotId.B);
    env.update(changes(RaucBootVariables.UBOOT.markGood(vars(env), lastRunning)));
    assertThat(choice(env).attemptsLeft(SlotId.B)).isEqualTo(3);
    assertThat(boot()).isEqualTo(SlotId.B);
    assertThat(choice(env).attemptsLeft(SlotId.B)).isEqualTo(2);
    assertThat(choice(env).next()).contains(SlotId.B);

    List<Double> bootSeconds = qemu.bootSeconds();
    double total = bootSeconds.stream().mapToDouble(Double::doubleValue).sum();
    log.info("Real U-Boot under QEMU: {} boots, {} s in QEMU in all ({})", bootSeconds.size(),
        String.format("%.1f", total), bootSeconds.stream().map(s -> String.format("%.2f", s)).toList());
    assertThat(bootSeconds).hasSize(7);
  }

  private SlotId lastRunning = SlotId.A;

  private static java.util.function.Function<String, @Nullable String> vars(UbootEnvironment env) {
    EnvVariables v = env.read().variables();
    return v::get;
  }

  private static Map<String, @Nullable String> changes(Map<String, String> changes) {
    return new LinkedHashMap<>(changes);
  }

  private static RaucBootVariables.BootChoice choice(UbootEnvironment env) {
    return RaucBootVariables.UBOOT.read(vars(env));
  }

  /** One boot: QEMU runs U-Boot until its boot command powers off; returns the slot it chose. */
  private SlotId boot() throws Exception {
    lastRunning = KernelCommandLine.runningSlot(qemu.powerOn(), "the bootargs U-Boot built");
    return lastRunning;
  }
}
