package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * environment U-Boot saved; after a mark-good the next boot keeps the slot.
 *
 * <p>Facts of that U-Boot build (checked in {@code shared/uboot-qemu}): the environment lives at
 * offset 0 of the second pflash bank, which must be exactly 64 MiB; it is {@code 0x40000} bytes and
 * not redundant; {@code saveenv} fails on QEMU 7.2's pflash, so the boot command exports the
 * environment ({@code env export -c}, byte-identical to what saveenv writes) to a small virtio disk,
 * which the test copies into the flash image after each boot; our environment replaces U-Boot's
 * default one, so it carries {@code bootcmd} and {@code bootdelay=0}.
 */
@Tag("integration")
class UbootQemuBootTest {

  private static final Logger log = LoggerFactory.getLogger(UbootQemuBootTest.class);
  private static final String UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
  private static final int ENV_SIZE = 0x40000;
  private static final long FLASH_SIZE = 64L << 20;
  private static final Pattern BOOTARGS = Pattern.compile("OTAFLUX: would boot kernel with bootargs=(.*)");

  @TempDir
  Path dir;

  private Path flash;
  private Path envDisk;
  private Path script;
  private final List<Double> bootSeconds = new ArrayList<>();

  @Test
  void realUbootBootsTheActivatedSlotFallsBackAfterThreeUnconfirmedBootsAndKeepsAConfirmedOne() throws Exception {
    RealTools.require("qemu-system-aarch64", "mkimage", "fw_printenv", UBOOT);
    script = dir.resolve("boot.scr");
    Path cmd = dir.resolve("boot.cmd");
    try (InputStream in = Objects.requireNonNull(getClass().getResourceAsStream("rauc-boot.cmd"), "rauc-boot.cmd")) {
      Files.copy(in, cmd);
    }
    RealTools.ok(dir, "mkimage", "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none", "-n", "rauc ab select",
        "-d", cmd.toString(), script.toString());
    flash = dir.resolve("flash1.img");
    byte[] erased = new byte[1 << 20];
    Arrays.fill(erased, (byte) 0xFF);
    try (RandomAccessFile f = new RandomAccessFile(flash.toFile(), "rw")) {
      for (long at = 0; at < FLASH_SIZE; at += erased.length) {
        f.write(erased);
      }
    }
    envDisk = dir.resolve("envdisk.img");
    Path config = dir.resolve("fw_env.config");
    Files.writeString(config, flash + " 0x0 0x40000 0x40000\n");
    UbootEnvironment env = new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(config));
    assertThat(env.isPowerSafe()).as("this U-Boot build keeps one copy").isFalse();

    // the device as installed: slot A good; then "activate b" through RAUC's variables
    Map<String, @Nullable String> initial = new LinkedHashMap<>();
    initial.put("bootdelay", "0");
    initial.put("BOOT_ORDER", "A B");
    initial.put("BOOT_A_LEFT", "3");
    initial.put("BOOT_B_LEFT", "3");
    initial.put("otaflux_envbuf", "0x41000000");
    initial.put("bootcmd", "source 0x40200000; env export -c -s 0x40000 ${otaflux_envbuf}; virtio scan;"
        + " virtio write ${otaflux_envbuf} 0 0x200; poweroff");
    initial.put("otaflux_unknown", "kept \"byte for byte\"");
    env.format(EnvVariables.empty().with(initial, UbootEnvironment::entry));
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
    Files.write(envDisk, new byte[256 * 1024]);
    Path serial = dir.resolve("boot" + (bootSeconds.size() + 1) + ".log");
    long t0 = System.nanoTime();
    Process qemu = new ProcessBuilder("qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "512M",
        "-smp", "1", "-nographic", "-monitor", "none", "-serial", "stdio", "-nic", "none", "-no-reboot",
        "-bios", UBOOT,
        "-drive", "if=pflash,unit=1,format=raw,file=" + flash,
        "-device", "loader,file=" + script + ",addr=0x40200000,force-raw=on",
        "-drive", "if=none,id=envdisk,format=raw,file=" + envDisk,
        "-device", "virtio-blk-device,drive=envdisk")
        .directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectErrorStream(true).redirectOutput(serial.toFile()).start();
    if (!qemu.waitFor(60, TimeUnit.SECONDS)) {
      qemu.destroyForcibly().waitFor();
      throw new AssertionError("U-Boot did not power off within 60 s; serial log:\n" + Files.readString(serial));
    }
    bootSeconds.add((System.nanoTime() - t0) / 1e9);
    String log = Files.readString(serial, StandardCharsets.ISO_8859_1).replace("\r", "");
    assertThat(qemu.exitValue()).as("qemu exit; serial log:\n%s", log).isZero();
    assertThat(log).as("U-Boot loaded our environment").contains("Loading Environment from Flash... OK");
    Matcher m = BOOTARGS.matcher(log);
    assertThat(m.find()).as("the boot script chose a slot; serial log:\n%s", log).isTrue();
    // the saveenv stand-in: U-Boot's exported environment becomes the flash's
    byte[] saved = Arrays.copyOf(Files.readAllBytes(envDisk), ENV_SIZE);
    try (RandomAccessFile f = new RandomAccessFile(flash.toFile(), "rw")) {
      f.write(saved);
      f.getFD().sync();
    }
    lastRunning = KernelCommandLine.runningSlot(m.group(1), "the bootargs U-Boot built");
    return lastRunning;
  }
}
