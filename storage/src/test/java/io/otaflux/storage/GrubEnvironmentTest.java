package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The grubenv codec, alone and against GRUB's own {@code grub-editenv} (grub-common). */
class GrubEnvironmentTest {

  @TempDir
  Path dir;

  private Path fresh() throws Exception {
    Path file = dir.resolve("grubenv");
    byte[] block = new byte[GrubEnvironment.SIZE];
    Arrays.fill(block, (byte) '#');
    byte[] header = GrubEnvironment.HEADER.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(header, 0, block, 0, header.length);
    Files.write(file, block);
    return file;
  }

  private static Map<String, @Nullable String> changes(String... pairs) {
    Map<String, @Nullable String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  private Map<String, String> grubList(Path file) throws Exception {
    String out = RealTools.ok(dir, "grub-editenv", file.toString(), "list");
    // a value may hold newlines: a line without '=' continues the previous value
    Map<String, String> vars = new LinkedHashMap<>();
    String last = null;
    for (String line : out.split("\n", -1)) {
      int eq = line.indexOf('=');
      if (eq < 0 && last != null) {
        vars.put(last, vars.get(last) + "\n" + line);
      } else if (eq >= 0) {
        last = line.substring(0, eq);
        vars.put(last, line.substring(eq + 1));
      }
    }
    if (last != null && vars.get(last).endsWith("\n")) {
      vars.put(last, vars.get(last).substring(0, vars.get(last).length() - 1));
    }
    return vars;
  }

  @Test
  void aBlockIs1024BytesHeaderLinesAndHashPaddingWithBackslashAndNewlineEscaped() throws Exception {
    Path file = fresh();
    GrubEnvironment env = new GrubEnvironment(FileMedium.INSTANCE, file);
    env.update(changes("ORDER", "B A", "odd", "a\\b\nc"));
    byte[] block = Files.readAllBytes(file);
    assertThat(block).hasSize(1024);
    String text = new String(block, StandardCharsets.UTF_8);
    assertThat(text).startsWith("# GRUB Environment Block\nORDER=B A\nodd=a\\\\b\\\nc\n#");
    assertThat(text.substring(text.indexOf("c\n#") + 2)).matches("#+");
    assertThat(env.read().asMap()).containsExactly(Map.entry("ORDER", "B A"), Map.entry("odd", "a\\b\nc"));
    assertThat(Files.exists(dir.resolve("grubenv.new"))).isFalse();
  }

  @Test
  void whatWeWriteGrubEditenvListReads() throws Exception {
    RealTools.require("grub-editenv");
    Path file = fresh();
    GrubEnvironment env = new GrubEnvironment(FileMedium.INSTANCE, file);
    env.update(changes("ORDER", "B A", "A_OK", "1", "A_TRY", "0", "B_OK", "1", "B_TRY", "0", "odd", "x\\y\nz w"));
    assertThat(grubList(file)).containsExactly(Map.entry("ORDER", "B A"), Map.entry("A_OK", "1"),
        Map.entry("A_TRY", "0"), Map.entry("B_OK", "1"), Map.entry("B_TRY", "0"), Map.entry("odd", "x\\y\nz w"));
    env.update(changes("B_TRY", "1", "A_OK", null));
    assertThat(grubList(file)).containsExactly(Map.entry("ORDER", "B A"), Map.entry("A_TRY", "0"),
        Map.entry("B_OK", "1"), Map.entry("B_TRY", "1"), Map.entry("odd", "x\\y\nz w"));
  }

  @Test
  void whatGrubEditenvWritesWeReadAndKeepByteForByte() throws Exception {
    RealTools.require("grub-editenv");
    Path file = dir.resolve("grubenv");
    RealTools.ok(dir, "grub-editenv", file.toString(), "create");
    RealTools.ok(dir, "grub-editenv", file.toString(), "set", "ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=0",
        "B_TRY=0", "saved_entry=gnulinux-advanced-\u00e9", "odd=back\\slash\nnew line");
    GrubEnvironment env = new GrubEnvironment(FileMedium.INSTANCE, file);
    assertThat(env.read().asMap()).containsExactly(Map.entry("ORDER", "A B"), Map.entry("A_OK", "1"),
        Map.entry("A_TRY", "0"), Map.entry("B_OK", "0"), Map.entry("B_TRY", "0"),
        Map.entry("saved_entry", "gnulinux-advanced-\u00e9"), Map.entry("odd", "back\\slash\nnew line"));
    byte[] theirs = Files.readAllBytes(file);
    // setting what is already there changes nothing; setting through both tools gives the same bytes
    env.update(changes("ORDER", "A B"));
    assertThat(Files.readAllBytes(file)).isEqualTo(theirs);
    Path copy = dir.resolve("grubenv.theirs");
    Files.write(copy, theirs);
    RealTools.ok(dir, "grub-editenv", copy.toString(), "set", "B_OK=1", "ORDER=B A", "NEW=v");
    env.update(changes("B_OK", "1", "ORDER", "B A", "NEW", "v"));
    assertThat(Files.readAllBytes(file)).as("the same block as grub-editenv's (its warning comment kept)")
        .isEqualTo(Files.readAllBytes(copy));
  }

  @Test
  void aBlockThatIsNot1024BytesOrLacksTheHeaderIsDamagedAndLeftAlone() throws Exception {
    Path file = fresh();
    byte[] block = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(block, 512));
    GrubEnvironment env = new GrubEnvironment(FileMedium.INSTANCE, file);
    assertThatThrownBy(() -> env.update(changes("ORDER", "A B"))).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.STORE_DAMAGED);
      assertThat(e.getMessage()).contains("512 bytes, not 1024");
    });
    byte[] noHeader = block.clone();
    noHeader[2] = 'g';
    Files.write(file, noHeader);
    assertThatThrownBy(env::read).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(Detail.STORE_DAMAGED);
      assertThat(e.getMessage()).contains("does not start with \"# GRUB Environment Block\"");
    });
    assertThat(Files.readAllBytes(file)).isEqualTo(noHeader);
  }

  @Test
  void variablesThatDoNotFitAreNoSpaceWithTheBytesNeeded() throws Exception {
    Path file = fresh();
    GrubEnvironment env = new GrubEnvironment(FileMedium.INSTANCE, file);
    byte[] before = Files.readAllBytes(file);
    assertThatThrownBy(() -> env.update(changes("big", "x".repeat(1000)))).isInstanceOfSatisfying(
        OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(Detail.NO_SPACE);
          assertThat(e.getMessage()).contains("need " + (25 + 4 + 1000 + 1) + " of its 1024 bytes");
        });
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
  }
}
