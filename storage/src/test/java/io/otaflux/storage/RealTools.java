package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's own tools (fw_printenv, fw_setenv, mkenvimage, grub-editenv, qemu-system-aarch64), run as
 * processes. A missing tool skips the test on a workstation but fails it under CI ({@code CI=true}),
 * where {@code .ci/run} installs them. Shared with the CLI's tests through the storage test-jar.
 */
public final class RealTools {

  private RealTools() {
  }

  /** Skips (or, under CI, fails) unless every tool is on the PATH or is an existing file. */
  public static void require(String... tools) {
    List<String> missing = new ArrayList<>();
    for (String tool : tools) {
      if (!available(tool)) {
        missing.add(tool);
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    String message = "missing " + missing + ": apt-get install -y libubootenv-tool u-boot-tools grub-common"
        + " qemu-system-arm u-boot-qemu (as .ci/run does)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(message + "; under CI=true a missing tool fails the test");
    }
    Assumptions.abort(message);
  }

  private static boolean available(String tool) {
    if (tool.startsWith("/")) {
      return Files.isRegularFile(Path.of(tool));
    }
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /** What a finished process printed, and its exit code. */
  public record Result(int exitCode, String stdout, String stderr) {
  }

  /** Runs a command (at most 60 s), stdin empty. */
  public static Result run(Path dir, String... command) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(
        new java.io.File("/dev/null"))).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + Arrays.toString(command));
    }
    Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** Runs a command that must succeed; returns its standard output. */
  public static String ok(Path dir, String... command) throws IOException, InterruptedException {
    Result r = run(dir, command);
    assertThat(r.exitCode()).as("%s failed: %s%s", Arrays.toString(command), r.stdout(), r.stderr()).isZero();
    return r.stdout();
  }

  /** Every variable {@code fw_printenv} reads through this {@code fw_env.config}, in its order. */
  public static Map<String, String> fwPrintenv(Path dir, Path config) throws IOException, InterruptedException {
    return variables(ok(dir, "fw_printenv", "-c", config.toString()));
  }

  /**
   * Writes the bytes of a redundant U-Boot environment (two copies of {@code 0x4000} bytes) to
   * {@code image}, and beside it a {@code fw_env.config} for it.
   *
   * @return the config
   */
  public static Path redundantEnv(Path image, byte[] bytes) throws IOException {
    Files.write(image, bytes);
    Path config = image.resolveSibling(image.getFileName() + ".config");
    Files.writeString(config, image + " 0x0 0x4000\n" + image + " 0x4000 0x4000\n");
    return config;
  }

  /**
   * A redundant U-Boot environment as a device is flashed with it: {@code mkenvimage -r} makes one copy
   * of {@code 0x4000} bytes holding {@code variables} ({@code NAME=value} lines), written twice to
   * {@code image} (both copies flags 1); beside it a {@code fw_env.config} for it ({@link #redundantEnv}).
   *
   * @return the config
   */
  public static Path mkenvimageRedundant(Path image, String variables) throws IOException, InterruptedException {
    Path dir = image.toAbsolutePath().getParent();
    Path text = Files.createTempFile(dir, "env", ".txt");
    Path copy = Files.createTempFile(dir, "env", ".bin");
    Files.writeString(text, variables, StandardCharsets.UTF_8);
    ok(dir, "mkenvimage", "-r", "-s", "0x4000", "-o", copy.toString(), text.toString());
    byte[] one = Files.readAllBytes(copy);
    byte[] both = Arrays.copyOf(one, 2 * one.length);
    System.arraycopy(one, 0, both, one.length, one.length);
    Files.delete(text);
    Files.delete(copy);
    return redundantEnv(image, both);
  }

  /** The {@code NAME=value} lines a tool prints ({@code fw_printenv}, {@code grub-editenv list}), in order. */
  public static Map<String, String> variables(String listing) {
    Map<String, String> vars = new LinkedHashMap<>();
    for (String line : listing.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        vars.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return vars;
  }
}
