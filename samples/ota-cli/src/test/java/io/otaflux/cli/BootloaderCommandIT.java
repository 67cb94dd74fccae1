package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.storage.QemuUboot;
import io.otaflux.storage.RealTools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ota} process with a bootloader store, against the real parts: Debian's U-Boot
 * ({@code u-boot-qemu}, {@code qemu_arm64} under {@code qemu-system-aarch64}) running RAUC's boot
 * script from the environment {@code ota} wrote, {@code fw_printenv}, {@code mkenvimage},
 * {@code grub-editenv}; the image comes from the demo HTTPS server. The QEMU board is the storage
 * module's {@code QemuUboot}, as its {@code UbootQemuBootTest} drives it (same script, same saveenv
 * stand-in).
 */
class BootloaderCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final byte[] IMAGE = DemoServer.random(1024 * 1024 + 77, 16);

  @RegisterExtension
  static final DemoServer DEMO = new DemoServer("rootfs-b.img", IMAGE);

  @TempDir
  Path dir;

  @Test
  void updateOnAUbootDeviceBootsUnderARealUbootFallsBackAfterThreeUnconfirmedBootsAndKeepsAConfirmedSlot()
      throws Exception {
    RealTools.require("mkenvimage", "fw_printenv");
    QemuUboot qemu = QemuUboot.board(dir, Duration.ofSeconds(90));
    // the device as flashed: U-Boot's environment (made by mkenvimage) in its NOR flash, slot A running
    Path flash = qemu.flash();
    Path vars = dir.resolve("env.txt");
    Files.writeString(vars, "bootdelay=0\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\notaflux_envbuf=0x41000000\n"
        + "bootcmd=" + QemuUboot.BOOTCMD + "\n");
    Path envImage = dir.resolve("env.bin");
    tool("mkenvimage", "-s", "0x40000", "-o", envImage.toString(), vars.toString());
    try (RandomAccessFile f = new RandomAccessFile(flash.toFile(), "rw")) {
      f.write(Files.readAllBytes(envImage));
    }
    Path config = qemu.fwEnvConfig();
    Path slotA = dir.resolve("rootfs-a.img");
    Path slotB = dir.resolve("rootfs-b.img");
    Files.write(slotA, "factory image".getBytes(StandardCharsets.US_ASCII));
    Files.write(slotB, new byte[0]);
    Path cmdline = dir.resolve("cmdline");
    Files.writeString(cmdline, "root=/dev/vda2 rauc.slot=A\n");
    Path data = dir.resolve("data");

    OtaProcess.Run init = OtaProcess.run("init", "--slots", data.toString(), "--bootloader", "uboot",
        "--fw-env-config", config.toString(), "--slot-a", slotA.toString(), "--slot-b", slotB.toString(),
        "--cmdline", cmdline.toString(), "--slot-size", "4M");
    assertThat(init.exitCode()).as(init.all()).isZero();
    assertThat(init.stdout()).contains("slot a is running, good and boots next").contains("ota mark-good")
        .contains("not power-safe");
    assertAgree(config, data, "a", "a", List.of("a"), 3, 0);

    // init over it refuses without --force and changes nothing
    OtaProcess.Run again = OtaProcess.run("init", "--slots", data.toString(), "--bootloader", "uboot",
        "--fw-env-config", config.toString(), "--slot-a", slotA.toString(), "--slot-b", slotB.toString(),
        "--cmdline", cmdline.toString());
    assertThat(again.exitCode()).as(again.all()).isEqualTo(2);
    assertThat(again.errorLine()).contains("already holds a slot store");

    // `ota boot` changes nothing with a bootloader store
    OtaProcess.Run boot = OtaProcess.run("boot", "--slots", data.toString());
    assertThat(boot.exitCode()).as(boot.all()).isZero();
    assertThat(boot.stdout()).contains("the bootloader (uboot) chooses the slot and counts the boots itself");
    assertAgree(config, data, "a", "a", List.of("a"), 3, 0);

    OtaProcess.Run update = update(data);
    assertThat(update.exitCode()).as(update.all()).isZero();
    assertThat(update.stdout()).contains("the bootloader counts its boots");
    assertThat(Files.readAllBytes(slotB)).isEqualTo(IMAGE);
    JsonNode status = assertAgree(config, data, "a", "b", List.of("b", "a"), 3, 3);
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("trial");
    assertThat(status.at("/slots/b/attempts").asInt()).isZero();
    assertThat(status.at("/bootloader/powerSafe").asBoolean()).isFalse();

    // three unconfirmed boots of B, counted by U-Boot itself
    for (int left = 2; left >= 0; left--) {
      assertThat(qemuBoot(qemu, cmdline)).isEqualTo("B");
      status = assertAgree(config, data, "b", "b", List.of("b", "a"), 3, left);
      assertThat(status.at("/slots/b/state").asText()).isEqualTo("trial");
      assertThat(status.at("/slots/b/attempts").asInt()).isEqualTo(3 - left);
    }
    // the fourth: U-Boot falls back to A; U-Boot left BOOT_ORDER=B A
    assertThat(qemuBoot(qemu, cmdline)).isEqualTo("A");
    assertThat(tool("fw_printenv", "-c", config.toString(), "BOOT_ORDER")).isEqualTo("BOOT_ORDER=B A\n");
    // the first command after the fallback takes the failed b out of BOOT_ORDER, so that if A is not confirmed
    // either, U-Boot's counter reset boots A, not b (issue 19, campaign seed 101628)
    status = assertAgree(config, data, "a", "a", List.of("a"), 2, 0);
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("invalid");
    assertThat(status.at("/slots/a/state").asText()).isEqualTo("good");
    assertThat(status.at("/bootloader/fallingBack").asBoolean()).isFalse();
    assertThat(human(data)).doesNotContain("the bootloader falls back");

    // the healthy boot of A is confirmed: the failed slot leaves the order, A gets its attempts back
    OtaProcess.Run good = OtaProcess.run("mark-good", "--slots", data.toString());
    assertThat(good.exitCode()).as(good.all()).isZero();
    assertAgree(config, data, "a", "a", List.of("a"), 3, 0);
    assertThat(qemuBoot(qemu, cmdline)).isEqualTo("A");
    assertAgree(config, data, "a", "a", List.of("a"), 2, 0);

    // a second try: update again, boot B, confirm it; the next boot keeps B
    update = update(data);
    assertThat(update.exitCode()).as(update.all()).isZero();
    assertAgree(config, data, "a", "b", List.of("b", "a"), 2, 3);
    assertThat(qemuBoot(qemu, cmdline)).isEqualTo("B");
    assertAgree(config, data, "b", "b", List.of("b", "a"), 2, 2);
    good = OtaProcess.run("mark-good", "--slots", data.toString());
    assertThat(good.exitCode()).as(good.all()).isZero();
    status = assertAgree(config, data, "b", "b", List.of("b", "a"), 2, 3);
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("good");
    assertThat(qemuBoot(qemu, cmdline)).isEqualTo("B");
    status = assertAgree(config, data, "b", "b", List.of("b", "a"), 2, 2);
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("good");
    List<Double> bootSeconds = qemu.bootSeconds();
    assertThat(bootSeconds).hasSize(7);
    System.out.println("BootloaderCommandIT: " + bootSeconds.size() + " real U-Boot boots under QEMU, seconds "
        + bootSeconds.stream().map(t -> Math.round(t * 100) / 100.0).toList());
  }

  @Test
  void updateMarkGoodAndRollbackOnAGrubDeviceAsGrubEditenvSeesThem() throws Exception {
    RealTools.require("grub-editenv");
    Path grubenv = dir.resolve("grubenv");
    tool("grub-editenv", grubenv.toString(), "create");
    tool("grub-editenv", grubenv.toString(), "set", "ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=1", "B_TRY=0",
        "default=0");
    Path slotA = dir.resolve("a.img");
    Path slotB = dir.resolve("b.img");
    Files.write(slotA, new byte[0]);
    Files.write(slotB, new byte[0]);
    Path cmdline = dir.resolve("cmdline");
    Files.writeString(cmdline, "BOOT_IMAGE=/vmlinuz rauc.slot=A ro\n");
    Path data = dir.resolve("data");
    OtaProcess.Run init = OtaProcess.run("init", "--slots", data.toString(), "--bootloader", "grub", "--grubenv",
        grubenv.toString(), "--slot-a", slotA.toString(), "--slot-b", slotB.toString(), "--cmdline",
        cmdline.toString(), "--slot-size", "4M");
    assertThat(init.exitCode()).as(init.all()).isZero();
    assertThat(grubList(grubenv)).containsEntry("ORDER", "A B").containsEntry("B_OK", "0").containsEntry("A_OK", "1")
        .containsEntry("default", "0");

    assertThat(update(data).exitCode()).isZero();
    assertThat(grubList(grubenv)).containsEntry("ORDER", "B A").containsEntry("B_OK", "1")
        .containsEntry("B_TRY", "0");
    JsonNode status = status(data);
    assertThat(status.at("/next").asText()).isEqualTo("b");
    assertThat(status.at("/bootloader/kind").asText()).isEqualTo("grub");
    assertThat(status.at("/bootloader/attemptsLeft/b").asInt()).isEqualTo(1);

    // GRUB boots B once (RAUC's script sets B_TRY=1 first)
    tool("grub-editenv", grubenv.toString(), "set", "B_TRY=1");
    Files.writeString(cmdline, "BOOT_IMAGE=/vmlinuz rauc.slot=B ro\n");
    status = status(data);
    assertThat(status.at("/active").asText()).isEqualTo("b");
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("trial");
    assertThat(status.at("/slots/b/attempts").asInt()).as("GRUB gives one try").isEqualTo(3);

    assertThat(OtaProcess.run("mark-good", "--slots", data.toString()).exitCode()).isZero();
    assertThat(grubList(grubenv)).as("the confirmed b is GRUB's default entry (menu entry 1)")
        .containsEntry("ORDER", "B A").containsEntry("B_OK", "1").containsEntry("B_TRY", "0")
        .containsEntry("default", "1");
    assertThat(status(data).at("/slots/b/state").asText()).isEqualTo("good");

    OtaProcess.Run rollback = OtaProcess.run("rollback", "--slots", data.toString());
    assertThat(rollback.exitCode()).as(rollback.all()).isZero();
    assertThat(rollback.stdout()).contains("slot a boots next");
    assertThat(grubList(grubenv)).containsEntry("ORDER", "A B").containsEntry("A_OK", "1")
        .containsEntry("A_TRY", "0").containsEntry("B_OK", "0").containsEntry("default", "0");
    status = status(data);
    assertThat(status.at("/next").asText()).isEqualTo("a");
    assertThat(status.at("/bootloader/order").toString()).isEqualTo("[\"a\",\"b\"]");
  }

  private OtaProcess.Run update(Path data) throws Exception {
    return OtaProcess.run(DEMO.update(DEMO.imageUrl(), data));
  }

  private static JsonNode status(Path data) throws Exception {
    OtaProcess.Run run = OtaProcess.run("status", "--slots", data.toString(), "--json");
    assertThat(run.exitCode()).as(run.all()).isZero();
    return JSON.readTree(run.stdout());
  }

  private static String human(Path data) throws Exception {
    OtaProcess.Run run = OtaProcess.run("status", "--slots", data.toString());
    assertThat(run.exitCode()).as(run.all()).isZero();
    return run.stdout();
  }

  /** `ota status --json` and `fw_printenv` tell the same boot choice, and it is the one expected. */
  private JsonNode assertAgree(Path config, Path data, String active, String next, List<String> order, int leftA,
      int leftB) throws Exception {
    JsonNode status = status(data);
    assertThat(status.at("/active").asText()).isEqualTo(active);
    assertThat(status.at("/next").asText()).isEqualTo(next);
    assertThat(status.at("/bootloader/kind").asText()).isEqualTo("uboot");
    List<String> jsonOrder = new ArrayList<>();
    status.at("/bootloader/order").forEach(n -> jsonOrder.add(n.asText()));
    assertThat(jsonOrder).isEqualTo(order);
    assertThat(status.at("/bootloader/attemptsLeft/a").asInt()).isEqualTo(leftA);
    assertThat(status.at("/bootloader/attemptsLeft/b").asInt()).isEqualTo(leftB);
    String printed = tool("fw_printenv", "-c", config.toString(), "BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT");
    assertThat(printed).isEqualTo("BOOT_ORDER=" + String.join(" ", order).toUpperCase(java.util.Locale.ROOT)
        + "\nBOOT_A_LEFT=" + Integer.toHexString(leftA) + "\nBOOT_B_LEFT=" + Integer.toHexString(leftB) + "\n");
    return status;
  }

  private Map<String, String> grubList(Path grubenv) throws Exception {
    return RealTools.variables(tool("grub-editenv", grubenv.toString(), "list"));
  }

  private String tool(String... command) throws Exception {
    Path out = Files.createTempFile(dir, "tool", ".out");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectOutput(out.toFile())
        .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(Arrays.toString(command)).isTrue();
    String text = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("%s: %s", Arrays.toString(command), text).isZero();
    Files.delete(out);
    return text;
  }

  /**
   * One power-on of the board; the kernel command line file gets the bootargs U-Boot built, as the
   * device's kernel would show them to {@code ota}.
   *
   * @return the slot U-Boot chose, "A" or "B"
   */
  private static String qemuBoot(QemuUboot qemu, Path cmdline) throws Exception {
    String bootargs = qemu.powerOn();
    Files.writeString(cmdline, bootargs + "\n");
    Matcher slot = Pattern.compile("rauc\\.slot=([AB])").matcher(bootargs);
    assertThat(slot.find()).isTrue();
    return slot.group(1);
  }
}
