package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Round trips with the real tools, both ways: libubootenv's {@code fw_printenv} / {@code fw_setenv}
 * (libubootenv-tool) and U-Boot's {@code mkenvimage} (u-boot-tools), on single and redundant
 * environments in a file.
 */
class UbootEnvToolsTest {

  private static final Logger log = LoggerFactory.getLogger(UbootEnvToolsTest.class);
  private static final int SIZE = 0x4000;

  @TempDir
  Path dir;

  private Path img;

  @BeforeEach
  void tools() {
    RealTools.require("fw_printenv", "fw_setenv", "mkenvimage");
    img = dir.resolve("env.img");
  }

  private Path config(boolean redundant) throws Exception {
    Path cfg = dir.resolve(redundant ? "fw_env.redundant.config" : "fw_env.config");
    Files.writeString(cfg, "# device offset size sector\n" + img + " 0x0 0x4000 0x4000\n"
        + (redundant ? img + " 0x4000 0x4000 0x4000\n" : ""));
    return cfg;
  }

  /** A zeroed redundant environment that we formatted with the boot variables (copy 1, flags 1). */
  private UbootEnvironment formattedRedundant() throws Exception {
    Files.write(img, new byte[2 * SIZE]);
    UbootEnvironment env = ours(config(true));
    env.format(vars(BOOT));
    return env;
  }

  private UbootEnvironment ours(Path cfg) {
    return new UbootEnvironment(FileMedium.INSTANCE, FwEnvConfig.read(cfg));
  }

  private Map<String, String> fwPrintenv(Path cfg) throws Exception {
    return RealTools.fwPrintenv(dir, cfg);
  }

  private static EnvVariables vars(String... pairs) {
    return TestVariables.uboot(pairs);
  }

  private static final String[] BOOT = {"bootdelay", "0", "BOOT_ORDER", "B A", "BOOT_A_LEFT", "3", "BOOT_B_LEFT",
      "3", "bootcmd", "if test ${x} = y; then echo a=b; fi", "\u00e9t\u00e9", "caf\u00e9"};

  @Test
  void whatWeWriteFwPrintenvReadsSingleCopy() throws Exception {
    Files.write(img, new byte[SIZE]);
    Path cfg = config(false);
    ours(cfg).format(vars(BOOT));
    assertThat(fwPrintenv(cfg)).containsExactlyInAnyOrderEntriesOf(vars(BOOT).asMap());
    ours(cfg).update(Map.of("BOOT_B_LEFT", "2"));
    assertThat(RealTools.ok(dir, "fw_printenv", "-c", cfg.toString(), "-n", "BOOT_B_LEFT")).isEqualTo("2\n");
  }

  @Test
  void whatWeWriteFwPrintenvReadsRedundantThroughSeveralAlternations() throws Exception {
    UbootEnvironment env = formattedRedundant();
    Path cfg = config(true);
    assertThat(fwPrintenv(cfg)).containsExactlyInAnyOrderEntriesOf(vars(BOOT).asMap());
    for (int i = 2; i >= 0; i--) {
      env.update(Map.of("BOOT_B_LEFT", Integer.toString(i), "step", "s" + i));
      Map<String, String> theirs = fwPrintenv(cfg);
      assertThat(theirs).containsEntry("BOOT_B_LEFT", Integer.toString(i)).containsEntry("step", "s" + i);
      assertThat(theirs).containsExactlyInAnyOrderEntriesOf(env.read().variables().asMap());
    }
  }

  @Test
  void whatMkenvimageWritesWeReadSingleAndRedundant() throws Exception {
    Path txt = dir.resolve("env.txt");
    Files.writeString(txt, "bootdelay=0\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nbootcmd=echo a=b; boot\n");
    Path single = dir.resolve("single.bin");
    RealTools.ok(dir, "mkenvimage", "-s", "0x4000", "-o", single.toString(), txt.toString());
    Files.copy(single, img);
    Map<String, String> expected = Map.of("bootdelay", "0", "BOOT_ORDER", "A B", "BOOT_A_LEFT", "3", "bootcmd",
        "echo a=b; boot");
    assertThat(ours(config(false)).read().variables().asMap()).containsExactlyInAnyOrderEntriesOf(expected);

    Path redundant = dir.resolve("redundant.bin");
    RealTools.ok(dir, "mkenvimage", "-r", "-s", "0x4000", "-o", redundant.toString(), txt.toString());
    byte[] copy = Files.readAllBytes(redundant);
    assertThat(copy[4]).as("mkenvimage -r writes flags 1").isEqualTo((byte) 1);
    byte[] both = Arrays.copyOf(copy, 2 * SIZE);
    System.arraycopy(copy, 0, both, SIZE, SIZE);
    Files.write(img, both);
    UbootEnvironment.Loaded read = ours(config(true)).read();
    assertThat(read.variables().asMap()).containsExactlyInAnyOrderEntriesOf(expected);
    assertThat(read.copy()).as("equal flags: the first copy").isZero();
  }

  @Test
  void whatFwSetenvWritesWeReadAndTheTwoWritersAlternateCopies() throws Exception {
    UbootEnvironment env = formattedRedundant();
    Path cfg = config(true);
    RealTools.ok(dir, "fw_setenv", "-c", cfg.toString(), "BOOT_ORDER", "A B");
    UbootEnvironment.Loaded afterTheirs = env.read();
    assertThat(afterTheirs.variables().get("BOOT_ORDER")).isEqualTo("A B");
    assertThat(afterTheirs.copy()).as("fw_setenv wrote the other copy").isEqualTo(1);
    assertThat(afterTheirs.flags()).isEqualTo(2);
    env.update(Map.of("BOOT_A_LEFT", "2"));
    RealTools.ok(dir, "fw_setenv", "-c", cfg.toString(), "extra", "from fw_setenv");
    UbootEnvironment.Loaded last = env.read();
    assertThat(last.copy()).isEqualTo(1);
    assertThat(last.flags()).isEqualTo(4);
    assertThat(last.variables().asMap()).containsEntry("BOOT_A_LEFT", "2").containsEntry("extra", "from fw_setenv")
        .containsEntry("BOOT_ORDER", "A B").containsEntry("\u00e9t\u00e9", "caf\u00e9");
    assertThat(fwPrintenv(cfg)).containsExactlyInAnyOrderEntriesOf(last.variables().asMap());
  }

  @Test
  void aNewestCopyThatIsCorruptedOrHalfWrittenAfterFwSetenvGivesTheOlderOneToUsAndToLibubootenv()
      throws Exception {
    UbootEnvironment env = formattedRedundant(); // copy 1 (flags 1)
    Path cfg = config(true);
    RealTools.ok(dir, "fw_setenv", "-c", cfg.toString(), "BOOT_ORDER", "A B"); // copy 2 (flags 2)
    RealTools.ok(dir, "fw_setenv", "-c", cfg.toString(), "BOOT_ORDER", "B A", "BOOT_B_LEFT", "1"); // copy 1 (3)
    byte[] older = Files.readAllBytes(img); // copy 2 = "A B", the newest copy 1 = "B A"
    assertThat(env.read().variables().get("BOOT_ORDER")).isEqualTo("B A");
    int cases = 0;

    // a flipped bit in the data of the newest copy
    byte[] flipped = older.clone();
    flipped[40] ^= 0x04;
    cases += checkOlderRead(cfg, flipped, "a flipped bit");

    // half written: the first sector new, the rest still what the copy held before (all 0xFF when fresh,
    // here: the zeros of the unwritten file)
    byte[] half = older.clone();
    Arrays.fill(half, 512, SIZE, (byte) 0);
    half[600] = 'x';
    cases += checkOlderRead(cfg, half, "half written (first sector new)");

    // the other way round: the header and first bytes lost, the rest new
    byte[] torn = older.clone();
    Arrays.fill(torn, 0, 16, (byte) 0xFF);
    cases += checkOlderRead(cfg, torn, "torn (first 16 bytes lost)");
    log.info("fw_setenv then a damaged newest copy: {} cases, libubootenv and we read the older copy", cases);

    // cut short by the end of the file while the newest copy is the second: U-Boot (env_import_redund)
    // and we take the first copy, but libubootenv 0.3.2 refuses to read a short copy at all
    Files.write(img, older);
    RealTools.ok(dir, "fw_setenv", "-c", cfg.toString(), "BOOT_ORDER", "A B", "cut", "me"); // copy 2 (4)
    byte[] full = Files.readAllBytes(img);
    Files.write(img, Arrays.copyOf(full, SIZE + 1000));
    assertThat(env.read().variables().get("BOOT_ORDER")).isEqualTo("B A");
    assertThat(env.read().variables().get("cut")).isNull();
    RealTools.Result theirs = RealTools.run(dir, "fw_printenv", "-c", cfg.toString());
    assertThat(theirs.exitCode()).as("libubootenv gives up on a short copy").isNotZero();
  }

  private int checkOlderRead(Path cfg, byte[] file, String what) throws Exception {
    Files.write(img, file);
    assertThat(ours(cfg).read().variables().get("BOOT_ORDER")).as("we, " + what).isEqualTo("A B");
    assertThat(ours(cfg).read().copy()).as(what).isEqualTo(1);
    assertThat(fwPrintenv(cfg)).as("fw_printenv, " + what).containsEntry("BOOT_ORDER", "A B")
        .containsExactlyInAnyOrderEntriesOf(ours(cfg).read().variables().asMap());
    return 1;
  }

  @Test
  void fwPrintenvAndWeBothRefuseAnEnvironmentWithNoValidCopy() throws Exception {
    Files.write(img, new byte[2 * SIZE]);
    Path cfg = config(true);
    RealTools.Result theirs = RealTools.run(dir, "fw_printenv", "-c", cfg.toString());
    assertThat(theirs.exitCode()).isNotZero();
    assertThat(theirs.stderr() + theirs.stdout()).contains("Cannot read environment");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ours(cfg).read())
        .hasMessageContaining("no copy is valid");
    assertThat(Files.readAllBytes(img)).isEqualTo(new byte[2 * SIZE]);
    assertThat(new String(Files.readAllBytes(cfg), StandardCharsets.UTF_8)).contains("0x4000");
  }
}
