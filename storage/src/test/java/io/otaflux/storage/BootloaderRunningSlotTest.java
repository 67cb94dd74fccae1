package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.SlotReader;
import io.otaflux.testkit.InMemoryFirmwareSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bootloader store opens its running slot for a delta update: the slot the kernel command line
 * names, with the image the store committed there. The U-Boot environment is the device's as
 * Debian's tools make and change it: {@code mkenvimage} flashes it, {@code fw_setenv} counts a boot
 * down as RAUC's script does, {@code fw_printenv} reads back what the store wrote.
 */
class BootloaderRunningSlotTest {

  private static final Duration T = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private Path config;
  private Path cmdline;

  @BeforeEach
  void tools() {
    RealTools.require("mkenvimage", "fw_setenv", "fw_printenv");
  }

  /** The device as flashed: empty slot files, a redundant environment made by mkenvimage, slot A running. */
  private BootloaderSlotStore device() throws Exception {
    config = RealTools.mkenvimageRedundant(dir.resolve("env.img"),
        "bootdelay=2\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n");
    Files.write(dir.resolve("slot-a.img"), "the factory image".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    Files.write(dir.resolve("slot-b.img"), new byte[0]);
    cmdline = dir.resolve("cmdline");
    Files.writeString(cmdline, "console=ttyAMA0 rauc.slot=A\n");
    BootloaderSlotStore.Setup setup = BootloaderSlotStore.Setup.uboot(config, dir.resolve("slot-a.img"),
        dir.resolve("slot-b.img")).withCmdline(cmdline).withCapacity(1 << 20);
    return BootloaderSlotStore.create(FileMedium.INSTANCE, dir.resolve("data"), setup, false, dir.resolve("mountinfo"),
        null);
  }

  private BootloaderSlotStore reopen() {
    return BootloaderSlotStore.open(FileMedium.INSTANCE, dir.resolve("data"), dir.resolve("mountinfo"), null);
  }

  /** The real updater installs and activates {@code image}; returns the slot written. */
  private SlotId update(BootloaderSlotStore store, byte[] image) {
    return OtaUpdater.create()
        .source(InMemoryFirmwareSource.of(image).chunkSize(7_000))
        .store(store)
        .install(UpdateRequest.of("https://fw.example/rootfs.img").withSha256(Sha256.digest(image)))
        .block(T)
        .slot();
  }

  /** U-Boot boots {@code name}: RAUC's script counts its attempts down (fw_setenv), the kernel gets rauc.slot=. */
  private void ubootBoots(String name, int leftAfter) throws Exception {
    RealTools.ok(dir, "fw_setenv", "-c", config.toString(), "BOOT_" + name + "_LEFT", Integer.toString(leftAfter));
    Files.writeString(cmdline, "console=ttyAMA0 root=/dev/mmcblk0p" + (name.equals("A") ? 2 : 3) + " rauc.slot="
        + name + "\n");
  }

  private static byte[] readAll(SlotReader reader) throws Exception {
    // a buffer larger than the image: the reader stops at the committed size, not at the file's end
    ByteBuffer dst = ByteBuffer.allocate((int) reader.size() + 4096);
    long at = 0;
    for (int n; (n = reader.read(dst, at)) >= 0; ) {
      at += n;
      if (n == 0) {
        throw new AssertionError("read returned 0 at " + at);
      }
    }
    return Arrays.copyOf(dst.array(), dst.position());
  }

  @Test
  void afterAnUpdateABootAndMarkGoodTheRunningSlotReadsExactlyItsCommittedImage() throws Exception {
    BootloaderSlotStore store = device();
    byte[] image = new byte[300_001];
    new Random(41).nextBytes(image);
    assertThat(update(store, image)).isEqualTo(SlotId.B);
    ubootBoots("B", 2);
    reopen().markGood().block(T);
    assertThat(RealTools.fwPrintenv(dir, config)).containsEntry("BOOT_ORDER", "B A").containsEntry("BOOT_B_LEFT", "3");
    // slot B's file holds more than the image past its end: never read
    Files.write(dir.resolve("slot-b.img"), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);

    try (SlotReader reader = reopen().openRunning().block(T)) {
      assertThat(reader.slot()).isEqualTo(SlotId.B);
      assertThat(reader.size()).isEqualTo(image.length);
      assertThat(reader.sha256()).contains(Sha256.digest(image));
      assertThat(readAll(reader)).isEqualTo(image);
      assertThat(reader.read(ByteBuffer.allocate(10), image.length)).isEqualTo(-1);
      ByteBuffer middle = ByteBuffer.allocate(100);
      assertThat(reader.read(middle, 1000)).isEqualTo(100);
      assertThat(middle.array()).isEqualTo(Arrays.copyOfRange(image, 1000, 1100));
    }
    // reading changed nothing the bootloader sees
    assertThat(RealTools.fwPrintenv(dir, config)).containsEntry("BOOT_ORDER", "B A").containsEntry("BOOT_B_LEFT", "3");
  }

  @Test
  void aRunningSlotWithNoCommittedImageIsRefusedNotAllowedNowEvenWhenTheNextBootHoldsOne() throws Exception {
    BootloaderSlotStore store = device();
    assertNotADeltaSource(store);

    // activated, not rebooted: the next boot (b) holds a committed image, the running slot (a) still none
    byte[] image = new byte[50_000];
    new Random(42).nextBytes(image);
    assertThat(update(store, image)).isEqualTo(SlotId.B);
    assertThat(RealTools.fwPrintenv(dir, config)).containsEntry("BOOT_ORDER", "B A");
    assertNotADeltaSource(reopen());
  }

  private static void assertNotADeltaSource(BootloaderSlotStore store) {
    assertThatThrownBy(() -> store.openRunning().block(T)).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.NOT_ALLOWED_NOW);
      assertThat(e.getMessage()).isEqualTo("Slot a runs an image this store did not install (the one the device was"
          + " flashed with: no size or digest recorded), so it is not read for a delta; deltas start once an update"
          + " has installed the running image.");
    });
  }
}
