package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.storage.RealTools;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * manifest create --delta --compress, then update --manifest as a process: a full download, then a delta; on a
 * file store and on a U-Boot store (the environment made and changed by Debian's mkenvimage and fw_setenv).
 */
class DeltaCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension
  static final DemoServer DEMO = new DemoServer();
  private static byte[] image1;
  private static byte[] image2;
  private static long transfer1;
  private static long transfer2;

  @TempDir
  Path dir;

  @BeforeAll
  static void publish() throws Exception {
    image1 = DemoServer.random(2 << 20, 1);
    image2 = image1.clone();
    byte[] patch = DemoServer.random(30_000, 2);
    System.arraycopy(patch, 0, image2, 1_500_000, patch.length);
    transfer1 = publish("fw-1.0.0.img", image1, "1.0.0", "m-1.0.0.json");
    transfer2 = publish("fw-2.0.0.img", image2, "2.0.0", "m-2.0.0.json");
  }

  /** Publishes an image with --delta --compress zstd; returns the transfer file's size. */
  private static long publish(String name, byte[] image, String version, String manifest) throws Exception {
    OtaProcess.Run run = DEMO.signedManifest(name, image, version, DEMO.keys(), manifest, "--delta", "--compress", "zstd");
    assertThat(run.stderr()).contains(name + ".zst").contains(name + ".chunks.zst").contains(name + ".idx");
    JsonNode m = JSON.readTree(run.stdout());
    assertThat(m.get("transferUrl").asText()).isEqualTo(name + ".zst");
    assertThat(m.get("indexUrl").asText()).isEqualTo(name + ".idx");
    Path work = DEMO.work();
    DEMO.server().publish(name, image);
    DEMO.server().publish(name + ".zst", Files.readAllBytes(work.resolve(name + ".zst")));
    DEMO.server().publish(name + ".idx", Files.readAllBytes(work.resolve(name + ".idx")));
    DEMO.server().publish(name + ".chunks.zst", Files.readAllBytes(work.resolve(name + ".chunks.zst")));
    return Files.size(work.resolve(name + ".zst"));
  }

  /** What the last {@link #update} printed. */
  private String lastOutput = "";

  private String slots() {
    return dir.resolve("slots").toString();
  }

  private JsonNode update(String manifest, String... extra) throws Exception {
    return update(Path.of(slots()), manifest, extra);
  }

  private JsonNode update(Path store, String manifest, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("update", "--manifest", DEMO.server().uri(manifest).toString(), "--slots",
        store.toString(), "--root-cert", DEMO.rootPem().toString(), "--trusted-key", DEMO.keys().resolve(KeygenCommand.PUBLIC).toString(),
        "--json"));
    args.addAll(List.of(extra));
    OtaProcess.Run run = OtaProcess.run(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.all()).isZero();
    lastOutput = run.all();
    String[] lines = run.stdout().strip().split("\n");
    JsonNode done = JSON.readTree(lines[lines.length - 1]);
    assertThat(done.get("event").asText()).isEqualTo("done");
    return done;
  }

  @Test
  void aSecondUpdateIsADeltaThatDownloadsOnlyWhatChangedAndReusesTheRunningSlot() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    JsonNode first = update("m-1.0.0.json");
    assertThat(first.get("sha256").asText()).isEqualTo(Sha256.digest(image1).hex());
    assertThat(first.get("reused").asLong()).isZero();
    assertThat(first.get("downloaded").asLong()).isGreaterThanOrEqualTo(transfer1);
    assertThat(OtaProcess.run("boot", "--slots", slots()).stdout().strip()).isEqualTo("b");
    assertThat(OtaProcess.run("mark-good", "--slots", slots()).exitCode()).isZero();

    // the full download kept the chunk index of image 1 with slot b
    assertThat(dir.resolve("slots").resolve("slot-b.chunks")).isNotEmptyFile();

    JsonNode second = update("m-2.0.0.json");

    // planned from that index: the running slot was not scanned (a scan is reported in the resolved event)
    assertThat(lastOutput).contains("\"event\":\"resolved\"").doesNotContain("was scanned");
    assertThat(dir.resolve("slots").resolve("slot-a.chunks")).isNotEmptyFile();
    assertThat(second.get("slot").asText()).isEqualTo("a");
    assertThat(second.get("sha256").asText()).isEqualTo(Sha256.digest(image2).hex());
    assertThat(second.get("reused").asLong()).isGreaterThan(image2.length * 9L / 10);
    assertThat(second.get("downloaded").asLong()).isPositive().isLessThan(transfer2 / 10);
  }

  @Test
  void onAUbootDeviceTheFirstUpdateDownloadsAllAndSaysWhyAndTheSecondIsADeltaFromTheRunningSlot() throws Exception {
    RealTools.require("mkenvimage", "fw_setenv", "fw_printenv");
    // the device as flashed: a redundant U-Boot environment made by mkenvimage, slot A running its factory image
    Path config = RealTools.mkenvimageRedundant(dir.resolve("env.img"),
        "bootdelay=2\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n");
    Path slotA = dir.resolve("rootfs-a.img");
    Path slotB = dir.resolve("rootfs-b.img");
    Files.writeString(slotA, "factory image");
    Files.write(slotB, new byte[0]);
    Path cmdline = dir.resolve("cmdline");
    Files.writeString(cmdline, "root=/dev/mmcblk0p2 rauc.slot=A\n");
    Path data = dir.resolve("data");
    OtaProcess.Run init = OtaProcess.run("init", "--slots", data.toString(), "--bootloader", "uboot", "--fw-env-config",
        config.toString(), "--slot-a", slotA.toString(), "--slot-b", slotB.toString(), "--cmdline", cmdline.toString(),
        "--slot-size", "4M");
    assertThat(init.exitCode()).as(init.all()).isZero();

    // the factory image has no recorded size or digest: not a delta source, and the update says so
    JsonNode first = update(data, "m-1.0.0.json");
    assertThat(lastOutput).contains("\"event\":\"delta-fallback\"").contains("Slot a runs an image this store did"
        + " not install").contains("Downloading the whole image instead.");
    assertThat(first.get("slot").asText()).isEqualTo("b");
    assertThat(first.get("reused").asLong()).isZero();
    assertThat(first.get("downloaded").asLong()).isGreaterThanOrEqualTo(transfer1);
    assertThat(Files.readAllBytes(slotB)).isEqualTo(image1);
    assertThat(data.resolve("slot-b.chunks")).isNotEmptyFile();

    // U-Boot boots B (RAUC's script counts it down: fw_setenv), the kernel is told rauc.slot=B; the device confirms
    RealTools.ok(dir, "fw_setenv", "-c", config.toString(), "BOOT_B_LEFT", "2");
    Files.writeString(cmdline, "root=/dev/mmcblk0p3 rauc.slot=B\n");
    OtaProcess.Run good = OtaProcess.run("mark-good", "--slots", data.toString());
    assertThat(good.exitCode()).as(good.all()).isZero();
    assertThat(RealTools.fwPrintenv(dir, config)).containsEntry("BOOT_ORDER", "B A").containsEntry("BOOT_B_LEFT", "3");

    JsonNode second = update(data, "m-2.0.0.json");
    assertThat(lastOutput).doesNotContain("delta-fallback").doesNotContain("was scanned");
    assertThat(second.get("slot").asText()).isEqualTo("a");
    assertThat(second.get("sha256").asText()).isEqualTo(Sha256.digest(image2).hex());
    assertThat(second.get("reused").asLong()).isGreaterThan(image2.length * 9L / 10);
    assertThat(second.get("downloaded").asLong()).isPositive().isLessThan(transfer2 / 10);
    assertThat(Files.readAllBytes(slotA)).isEqualTo(image2);
    assertThat(Files.readAllBytes(slotB)).as("the running slot, only read").isEqualTo(image1);
    assertThat(RealTools.fwPrintenv(dir, config)).containsEntry("BOOT_ORDER", "A B").containsEntry("BOOT_A_LEFT", "3");
    System.out.println("DeltaCommandIT: U-Boot store, second update downloaded " + second.get("downloaded").asLong()
        + " bytes (whole compressed image " + transfer2 + "), reused " + second.get("reused").asLong() + " of "
        + image2.length);
  }

  @Test
  void noDeltaDownloadsTheWholeCompressedImage() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    JsonNode done = update("m-1.0.0.json", "--no-delta");
    assertThat(done.get("reused").asLong()).isZero();
    assertThat(done.get("downloaded").asLong()).isEqualTo(transfer1);
    assertThat(done.get("sha256").asText()).isEqualTo(Sha256.digest(image1).hex());
  }
}
