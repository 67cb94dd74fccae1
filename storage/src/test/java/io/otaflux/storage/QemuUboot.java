package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's real U-Boot ({@code u-boot-qemu}, build {@code qemu_arm64}) under
 * {@code qemu-system-aarch64} (TCG), powered on once per {@link #powerOn()}: it loads the
 * environment from its NOR flash, runs RAUC's documented boot script ({@code rauc-boot.cmd} beside
 * this class) and powers off. Shared by the storage module's U-Boot test and the CLI's through the
 * storage test-jar.
 *
 * <p>Facts of that U-Boot build (checked in {@code shared/uboot-qemu}): the environment lives at
 * offset 0 of the second pflash bank, which must be exactly 64 MiB; it is {@code 0x40000} bytes and
 * not redundant; {@code saveenv} fails on QEMU 7.2's pflash, so the boot command exports the
 * environment ({@code env export -c}, byte-identical to what saveenv writes) to a small virtio disk,
 * which {@link #powerOn()} copies into the flash image after each boot (the saveenv stand-in).
 */
public final class QemuUboot {

  /** Debian's U-Boot for QEMU's arm64 {@code virt} machine. */
  public static final String UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
  /** The size of that build's environment. */
  public static final int ENV_SIZE = 0x40000;
  /** The boot command U-Boot's environment must hold: the boot script, then the saveenv stand-in. */
  public static final String BOOTCMD = "source 0x40200000; env export -c -s 0x40000 ${otaflux_envbuf}; virtio scan;"
      + " virtio write ${otaflux_envbuf} 0 0x200; poweroff";
  private static final long FLASH_SIZE = 64L << 20;
  private static final Pattern BOOTARGS = Pattern.compile("OTAFLUX: would boot kernel with bootargs=(.*)");

  private final Path dir;
  private final Path flash;
  private final Path script;
  private final Path envDisk;
  private final Duration timeout;
  private final List<Double> bootSeconds = new ArrayList<>();

  private QemuUboot(Path dir, Path flash, Path script, Duration timeout) {
    this.dir = dir;
    this.flash = flash;
    this.script = script;
    this.envDisk = dir.resolve("envdisk.img");
    this.timeout = timeout;
  }

  /**
   * A board in {@code dir}: an erased 64 MiB NOR flash ({@code flash1.img}, where the test writes
   * the environment at offset 0) and RAUC's boot script made into a U-Boot script image by
   * {@code mkimage}. Skips (or, under CI, fails) without QEMU, U-Boot or {@code mkimage}.
   *
   * @param dir the test's folder
   * @param timeout how long one boot may take before the test fails
   * @return the board, not yet powered on
   */
  public static QemuUboot board(Path dir, Duration timeout) throws IOException, InterruptedException {
    RealTools.require("qemu-system-aarch64", "mkimage", UBOOT);
    Path cmd = dir.resolve("boot.cmd");
    try (InputStream in = Objects.requireNonNull(QemuUboot.class.getResourceAsStream("rauc-boot.cmd"),
        "rauc-boot.cmd")) {
      Files.copy(in, cmd);
    }
    Path script = dir.resolve("boot.scr");
    RealTools.ok(dir, "mkimage", "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none", "-n", "rauc ab select",
        "-d", cmd.toString(), script.toString());
    Path flash = dir.resolve("flash1.img");
    byte[] erased = new byte[1 << 20];
    Arrays.fill(erased, (byte) 0xFF);
    try (RandomAccessFile f = new RandomAccessFile(flash.toFile(), "rw")) {
      for (long at = 0; at < FLASH_SIZE; at += erased.length) {
        f.write(erased);
      }
    }
    return new QemuUboot(dir, flash, script, timeout);
  }

  /** The NOR flash image; its environment is at offset 0, {@link #ENV_SIZE} bytes. */
  public Path flash() {
    return flash;
  }

  /** A libubootenv {@code fw_env.config} for the flash's environment, written in the board's folder. */
  public Path fwEnvConfig() throws IOException {
    Path config = dir.resolve("fw_env.config");
    Files.writeString(config, flash + " 0x0 0x40000 0x40000\n");
    return config;
  }

  /**
   * One power-on: QEMU runs U-Boot until its boot command powers off; U-Boot's exported environment
   * becomes the flash's.
   *
   * @return the kernel command line U-Boot built
   */
  public String powerOn() throws IOException, InterruptedException {
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
    if (!qemu.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      qemu.destroyForcibly().waitFor();
      throw new AssertionError("U-Boot did not power off within " + timeout.toSeconds() + " s; serial log:\n"
          + Files.readString(serial));
    }
    bootSeconds.add((System.nanoTime() - t0) / 1e9);
    String log = Files.readString(serial, StandardCharsets.ISO_8859_1).replace("\r", "");
    assertThat(qemu.exitValue()).as("qemu exit; serial log:\n%s", log).isZero();
    assertThat(log).as("U-Boot loaded the environment we wrote").contains("Loading Environment from Flash... OK");
    Matcher m = BOOTARGS.matcher(log);
    assertThat(m.find()).as("the boot script chose a slot; serial log:\n%s", log).isTrue();
    byte[] saved = Arrays.copyOf(Files.readAllBytes(envDisk), ENV_SIZE);
    try (RandomAccessFile f = new RandomAccessFile(flash.toFile(), "rw")) {
      f.write(saved);
      f.getFD().sync();
    }
    return m.group(1);
  }

  /** How long each power-on took, in seconds, in order. */
  public List<Double> bootSeconds() {
    return List.copyOf(bootSeconds);
  }
}
