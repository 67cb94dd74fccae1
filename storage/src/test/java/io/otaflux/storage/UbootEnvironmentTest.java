package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UbootEnvironmentTest {

  private static final int SIZE = 0x1000;

  @TempDir
  Path dir;

  private UbootEnvironment redundant() throws Exception {
    Path img = dir.resolve("env.img");
    Files.write(img, new byte[2 * SIZE]);
    return new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.parse(img + " 0x0 0x1000\n" + img
        + " 0x1000 0x1000\n", dir.resolve("fw_env.config")));
  }

  private UbootEnvironment single() throws Exception {
    Path img = dir.resolve("single.img");
    Files.write(img, new byte[SIZE]);
    return new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.parse(img + " 0 0x1000", dir.resolve("c")));
  }

  private static EnvVariables vars(String... pairs) {
    return TestVariables.uboot(pairs);
  }

  @Test
  void aSingleCopyIsCrcLittleEndianThenNulSeparatedEntriesAndIsNotPowerSafe() throws Exception {
    UbootEnvironment env = single();
    assertThat(env.isPowerSafe()).isFalse();
    env.format(vars("bootdelay", "0", "BOOT_ORDER", "A B"));
    byte[] bytes = Files.readAllBytes(env.config().copies().get(0).device());
    assertThat(bytes).hasSize(SIZE);
    byte[] data = "bootdelay=0\0BOOT_ORDER=A B\0\0".getBytes(StandardCharsets.US_ASCII);
    assertThat(java.util.Arrays.copyOfRange(bytes, 4, 4 + data.length)).isEqualTo(data);
    CRC32 crc = new CRC32();
    crc.update(bytes, 4, SIZE - 4);
    assertThat(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo((int) crc.getValue());
    assertThat(env.read().variables().asMap()).containsExactly(Map.entry("bootdelay", "0"),
        Map.entry("BOOT_ORDER", "A B"));
  }

  @Test
  void redundantWritesAlternateCopiesWithTheFlagCountingUpAndReadTheNewest() throws Exception {
    UbootEnvironment env = redundant();
    assertThat(env.isPowerSafe()).isTrue();
    UbootEnvironment.Loaded loaded = env.format(vars("a", "1"));
    assertThat(loaded.copy()).isZero();
    assertThat(loaded.flags()).isEqualTo(1);
    UbootEnvironment.Loaded second = env.update(Map.of("a", "2"));
    assertThat(second.copy()).isEqualTo(1);
    assertThat(second.flags()).isEqualTo(2);
    UbootEnvironment.Loaded third = env.update(Map.of("a", "3"));
    assertThat(third.copy()).isZero();
    assertThat(third.flags()).isEqualTo(3);
    UbootEnvironment.Loaded read = env.read();
    assertThat(read.copy()).isZero();
    assertThat(read.flags()).isEqualTo(3);
    assertThat(read.variables().get("a")).isEqualTo("3");
    // the other copy still holds the previous environment, valid
    byte[] file = Files.readAllBytes(env.config().copies().get(0).device());
    assertThat(new String(file, SIZE + 5, 4, StandardCharsets.US_ASCII)).isEqualTo("a=2\0");
    assertThat(file[SIZE + 4]).isEqualTo((byte) 2);
  }

  @Test
  void theFlagCounterWrapsFrom255To0AndZeroThenCountsAsNewer() throws Exception {
    UbootEnvironment env = redundant();
    Path img = env.config().copies().get(0).device();
    byte[] file = twoCopies(vars("n", "old"), 254, vars("n", "new"), 255);
    Files.write(img, file);
    assertThat(env.read().variables().get("n")).isEqualTo("new");
    UbootEnvironment.Loaded wrapped = env.update(Map.of("n", "wrapped"));
    assertThat(wrapped.copy()).isZero();
    assertThat(wrapped.flags()).isZero();
    assertFirstCopyRead(env, "n", "wrapped");
  }

  @Test
  void equalFlagsInTwoValidCopiesPickTheFirstAsLibubootenvAndUbootDo() throws Exception {
    UbootEnvironment env = redundant();
    byte[] file = twoCopies(vars("n", "first"), 7, vars("n", "second"), 7);
    Files.write(env.config().copies().get(0).device(), file);
    assertThat(env.read().variables().get("n")).isEqualTo("first");
  }

  @Test
  void unknownVariablesKeepTheirBytesAndOrderWhenOthersChange() throws Exception {
    UbootEnvironment env = redundant();
    // entries as another tool wrote them: odd order, a value with '=' and UTF-8, an entry without '='
    byte[] image = new byte[SIZE];
    byte[] data = "zeta=1\0bootcmd=run a=b; echo \u00e9t\u00e9\0noequals\0BOOT_ORDER=A B\0alpha=x\0\0"
        .getBytes(StandardCharsets.UTF_8);
    System.arraycopy(data, 0, image, 5, data.length);
    image[4] = 9;
    CRC32 crc = new CRC32();
    crc.update(image, 5, SIZE - 5);
    ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) crc.getValue());
    byte[] file = new byte[2 * SIZE];
    System.arraycopy(image, 0, file, 0, SIZE);
    Files.write(env.config().copies().get(0).device(), file);

    env.update(Map.of("BOOT_ORDER", "B A", "BOOT_B_LEFT", "3"));

    byte[] after = Files.readAllBytes(env.config().copies().get(0).device());
    byte[] expected = "zeta=1\0bootcmd=run a=b; echo \u00e9t\u00e9\0noequals\0BOOT_ORDER=B A\0alpha=x\0BOOT_B_LEFT=3\0\0"
        .getBytes(StandardCharsets.UTF_8);
    assertThat(java.util.Arrays.copyOfRange(after, SIZE + 5, SIZE + 5 + expected.length)).isEqualTo(expected);
    assertThat(after[SIZE + 4]).isEqualTo((byte) 10);
    assertThat(env.read().variables().get("bootcmd")).isEqualTo("run a=b; echo \u00e9t\u00e9");
  }

  @Test
  void badCrcInBothCopiesIsStoreDamagedAndNothingIsWritten() throws Exception {
    UbootEnvironment env = redundant();
    Path img = env.config().copies().get(0).device();
    byte[] file = twoCopies(vars("a", "1"), 1, vars("a", "2"), 2);
    file[10] ^= 1;
    file[SIZE + 10] ^= 1;
    Files.write(img, file);
    assertThatThrownBy(() -> env.update(Map.of("a", "3"))).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.STORE_DAMAGED);
      assertThat(e.getMessage()).contains("no copy is valid").contains("bad CRC").contains("Nothing was written");
    });
    assertThat(Files.readAllBytes(img)).isEqualTo(file);
  }

  @Test
  void aBadCrcInTheNewestCopyReadsTheOlderOne() throws Exception {
    UbootEnvironment env = redundant();
    env.format(vars("a", "1"));
    env.update(Map.of("a", "2")); // copy 2, flags 2
    Path img = env.config().copies().get(0).device();
    byte[] file = Files.readAllBytes(img);
    file[SIZE + 6] ^= 0x40;
    Files.write(img, file);
    assertFirstCopyRead(env, "a", "1");
  }

  @Test
  void aNewestCopyCutShortByTheEndOfTheFileReadsTheOlderOne() throws Exception {
    UbootEnvironment env = redundant();
    env.format(vars("a", "1"));
    env.update(Map.of("a", "2"));
    Path img = env.config().copies().get(0).device();
    byte[] file = Files.readAllBytes(img);
    Files.write(img, java.util.Arrays.copyOf(file, SIZE + 100));
    assertThat(env.read().variables().get("a")).isEqualTo("1");
  }

  @Test
  void anEnvironmentTooSmallForTheVariablesSaysHowManyBytesAreNeededAndWritesNothing() throws Exception {
    UbootEnvironment env = single();
    env.format(vars("a", "1"));
    Path img = env.config().copies().get(0).device();
    byte[] before = Files.readAllBytes(img);
    String big = "x".repeat(SIZE);
    assertThatThrownBy(() -> env.update(Map.of("big", big))).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.NO_SPACE);
      // "a=1\0" + "big=" + 4096 x + "\0" + final "\0"
      assertThat(e.getMessage()).contains("need " + (4 + 4 + SIZE + 1 + 1) + " bytes").contains("holds " + (SIZE - 4));
    });
    assertThat(Files.readAllBytes(img)).isEqualTo(before);
  }

  @Test
  void aMissingDeviceIsAnIoErrorThatNamesIt() {
    Path missing = dir.resolve("nope.img");
    UbootEnvironment env = new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.parse(missing + " 0 0x1000",
        dir.resolve("c")));
    assertThatThrownBy(env::read).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.IO_ERROR);
      assertThat(e.getMessage()).contains(missing.toString()).contains("missing");
    });
  }

  @Test
  void aNegativeOffsetCountsBackFromTheEndOfTheDevice() throws Exception {
    Path img = dir.resolve("disk.img");
    Files.write(img, new byte[5 * SIZE]);
    UbootEnvironment env = new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.parse(img + " -0x1000 0x1000",
        dir.resolve("c")));
    env.format(vars("k", "v"));
    byte[] file = Files.readAllBytes(img);
    assertThat(new String(file, 4 * SIZE + 4, 4, StandardCharsets.US_ASCII)).isEqualTo("k=v\0");
    assertThat(env.read().variables().get("k")).isEqualTo("v");
  }

  @Test
  void deletingAndSettingKeepsTheRestInPlace() {
    EnvVariables v = vars("a", "1", "b", "2", "c", "3");
    Map<String, @Nullable String> changes = new LinkedHashMap<>();
    changes.put("b", null);
    changes.put("a", "9");
    changes.put("d", "4");
    EnvVariables after = v.with(changes, UbootEnvironment::entry);
    assertThat(List.copyOf(after.asMap().entrySet())).containsExactly(Map.entry("a", "9"), Map.entry("c", "3"),
        Map.entry("d", "4"));
  }

  /** The environment reads from its first copy, which holds {@code name=value}. */
  private static void assertFirstCopyRead(UbootEnvironment env, String name, String value) throws Exception {
    UbootEnvironment.Loaded read = env.read();
    assertThat(read.copy()).isZero();
    assertThat(read.variables().get(name)).isEqualTo(value);
  }

  /** A redundant environment's bytes: the first copy, then the second, each with its flags byte. */
  private static byte[] twoCopies(EnvVariables first, int firstFlags, EnvVariables second, int secondFlags) {
    byte[] file = new byte[2 * SIZE];
    System.arraycopy(UbootEnvironment.encode(first, SIZE, true, firstFlags), 0, file, 0, SIZE);
    System.arraycopy(UbootEnvironment.encode(second, SIZE, true, secondFlags), 0, file, SIZE, SIZE);
    return file;
  }
}
