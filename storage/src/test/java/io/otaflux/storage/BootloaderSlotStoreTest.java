package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bootloader store's refusals (each before anything is written) and what it tells of the bootloader. */
class BootloaderSlotStoreTest {

  private static final Duration T = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private BootloaderSlotStore.Setup setup(boolean redundant) throws Exception {
    return BootloaderSlotStoreUbootKitTest.setup(dir, redundant).withCapacity(1 << 20);
  }

  private BootloaderSlotStore init(BootloaderSlotStore.Setup setup) {
    return BootloaderSlotStore.create(FileMedium.INSTANCE, dir.resolve("data"), setup, false, dir.resolve("mountinfo"),
        null);
  }

  /** Every file of the test: the environment, the slots, the data directory. */
  private Map<String, byte[]> snapshot() throws Exception {
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
        files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return files;
  }

  private void assertRefusedBeforeWriting(Detail detail, String sentence, Runnable action) throws Exception {
    Map<String, byte[]> before = snapshot();
    assertThatThrownBy(action::run).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(detail);
      assertThat(e.getMessage()).contains(sentence);
    });
    Map<String, byte[]> after = snapshot();
    after.keySet().removeIf(k -> k.endsWith(".lock")); // the locks' files, empty
    before.keySet().removeIf(k -> k.endsWith(".lock"));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    for (String k : before.keySet()) {
      assertThat(Arrays.equals(after.get(k), before.get(k))).as(k + " unchanged").isTrue();
    }
  }

  @Test
  void aMissingEnvironmentIsRefusedBeforeAnythingIsWritten() throws Exception {
    BootloaderSlotStore.Setup s = setup(true);
    Files.delete(dir.resolve("env.img"));
    assertRefusedBeforeWriting(Detail.IO_ERROR, "is missing", () -> init(s));
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void anEnvironmentDamagedInBothCopiesIsRefusedBeforeAnythingIsWritten() throws Exception {
    BootloaderSlotStore.Setup s = setup(true);
    byte[] env = Files.readAllBytes(dir.resolve("env.img"));
    env[10] ^= 0x55;            // copy 1's data: its CRC no longer matches
    env[0x4000 + 10] ^= 0x55;   // copy 2's
    Files.write(dir.resolve("env.img"), env);
    assertRefusedBeforeWriting(Detail.STORE_DAMAGED, "", () -> init(s));
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void anEnvironmentTooSmallForTheVariablesIsRefusedBeforeAnythingIsWritten() throws Exception {
    BootloaderSlotStore.Setup s = setup(false);
    Path env = dir.resolve("small-env.img");
    Files.write(env, new byte[0x20]);
    Path cfg = dir.resolve("small.config");
    Files.writeString(cfg, env + " 0x0 0x20\n");
    Map<String, @Nullable String> vars = new LinkedHashMap<>();
    vars.put("bootdelay", "2");
    new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(cfg)).format(EnvVariables.empty().with(vars,
        UbootEnvironment::entry));
    BootloaderSlotStore.Setup small = new BootloaderSlotStore.Setup(BootloaderSlotStore.Kind.UBOOT, cfg, s.slotA(),
        s.slotB(), s.cmdline(), s.capacity());
    assertRefusedBeforeWriting(Detail.NO_SPACE, "", () -> init(small));
    assertThat(dir.resolve("data/boot-state")).doesNotExist();
  }

  @Test
  void aCommandLineNamingNoSlotIsRefusedBeforeAnythingIsWritten() throws Exception {
    BootloaderSlotStore.Setup s = setup(true);
    Files.writeString(s.cmdline(), "console=ttyS0 root=/dev/sda2\n");
    assertRefusedBeforeWriting(Detail.INVALID_REQUEST, "names no slot", () -> init(s));
    assertThat(dir.resolve("data")).doesNotExist();
  }

  @Test
  void anImageLargerThanTheSlotIsSlotTooSmallBeforeTheFirstByte() throws Exception {
    BootloaderSlotStore store = init(setup(true).withCapacity(1000));
    StoreStatus before = store.status().block(T);
    assertRefusedBeforeWriting(Detail.SLOT_TOO_SMALL, "larger than slot b", () -> store.openWriter(
        new ImageSpec(URI.create("https://fw.example/big.img"), 1001, null, null)).block(T));
    assertThat(store.status().block(T)).isEqualTo(before);
  }

  @Test
  void theSlotMountedAsTheRootFileSystemIsNeverWritten() throws Exception {
    BootloaderSlotStore store = init(setup(true));
    // the command line says A runs, but / is mounted from slot b's path: the boot script lies
    Files.writeString(dir.resolve("mountinfo"), "22 1 8:2 / / rw,relatime shared:1 - ext4 " + dir.resolve("slot-b.img")
        + " rw\n25 22 0:5 / /dev rw - devtmpfs udev rw\n");
    assertRefusedBeforeWriting(Detail.INVALID_REQUEST, "mounted at /", () -> store.openWriter(
        new ImageSpec(URI.create("https://fw.example/i.img"), 10, null, null)).block(T));
    assertThat(BootloaderSlotStore.rootDevice(dir.resolve("mountinfo"))).contains(dir.resolve("slot-b.img"));
  }

  @Test
  void bootIsRefusedBecauseTheBootloaderCountsAndNothingChanges() throws Exception {
    BootloaderSlotStore store = init(setup(true));
    assertRefusedBeforeWriting(Detail.NOT_ALLOWED_NOW, "The bootloader counts boots", () -> store.boot().block(T));
  }

  @Test
  void initOverAStoreIsRefusedAndRecreateReplacesIt() throws Exception {
    BootloaderSlotStore.Setup s = setup(true);
    init(s);
    assertRefusedBeforeWriting(Detail.STORE_EXISTS, "already holds a slot store", () -> init(s));
    BootloaderSlotStore.create(FileMedium.INSTANCE, dir.resolve("data"), s, true, dir.resolve("mountinfo"), null);
  }

  @Test
  void theStatusTellsWhatTheBootloaderDoesNextAndWhetherItsWritesArePowerSafe() throws Exception {
    BootloaderSlotStore single = init(setup(false));
    BootloaderSlotStore.BootloaderStatus boot = single.bootloaderStatus().block(T);
    assertThat(boot.powerSafe()).isFalse();
    assertThat(boot.environment()).contains("not power-safe");
    assertThat(boot.order()).containsExactly(SlotId.A);
    assertThat(boot.attemptsLeft(SlotId.B)).isZero();
    assertThat(boot.next()).isEqualTo(SlotId.A);

    byte[] image = new byte[5000];
    SlotWriter w = single.openWriter(new ImageSpec(URI.create("https://fw.example/i.img"), image.length, null, null))
        .block(T);
    w.write(ByteBuffer.wrap(image));
    w.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/i.img"), "2"));
    w.release();
    single.activate(SlotId.B, Sha256.digest(image)).block(T);
    boot = single.bootloaderStatus().block(T);
    assertThat(boot.order()).containsExactly(SlotId.B, SlotId.A);
    assertThat(boot.attemptsLeft(SlotId.B)).isEqualTo(3);
    assertThat(single.status().block(T).slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
  }

  @Test
  void aStoreOpensFromItsDataDirectoryAlone() throws Exception {
    BootloaderSlotStore store = init(setup(true));
    assertThat(BootloaderSlotStore.isIn(dir.resolve("data"))).isTrue();
    BootloaderSlotStore again = BootloaderSlotStore.open(FileMedium.INSTANCE, dir.resolve("data"),
        dir.resolve("mountinfo"), null);
    assertThat(again.setup().environment()).isEqualTo(store.setup().environment().toAbsolutePath());
    assertThat(again.status().block(T)).isEqualTo(store.status().block(T));
  }
}
