package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code java -jar ota.jar ...} as a process, optionally under a wrapper (unshare, strace). */
final class Ota {

  static final Path JAR = Path.of(System.getProperty("ota.jar", "../ota-cli/target/ota.jar")).toAbsolutePath();
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  /** The class-data archive the ota-cli build records of the jar before its integration tests, if there is one. */
  private static final Path ARCHIVE = Path.of(System.getProperty("ota.archive", "../ota-cli/target/ota-it.jsa"));

  private Ota() {
  }

  /** What one run printed and how it ended. */
  record Run(int exitCode, String stdout, String stderr) {
    String errorLine() {
      List<String> lines = stderr.lines().filter(l -> l.startsWith("error: ")).toList();
      assertThat(lines).as("exactly one error: line in\n" + stderr).hasSize(1);
      return lines.get(0).substring("error: ".length());
    }
  }

  /** The command line of {@code ota args...} (for a shell script or a wrapper). */
  static List<String> command(String... args) {
    List<String> command = new ArrayList<>(List.of(JAVA, "-Xmx48m"));
    if (Files.isRegularFile(ARCHIVE)) {
      // start-up CPU only (the launcher's lever): a stale or damaged archive is ignored by the JVM, silently
      command.addAll(List.of("-XX:SharedArchiveFile=" + ARCHIVE.toAbsolutePath(), "-Xlog:cds*=off"));
    }
    command.addAll(List.of("-jar", JAR.toString()));
    command.addAll(List.of(args));
    return command;
  }

  static String shell(String... args) {
    StringBuilder out = new StringBuilder();
    for (String a : command(args)) {
      out.append('\'').append(a.replace("'", "'\\''")).append("' ");
    }
    return out.toString().strip();
  }

  static Run run(String... args) throws IOException, InterruptedException {
    return run(command(args));
  }

  static Process start(List<String> command, Path out, Path err) throws IOException {
    assertThat(JAR).as("ota.jar is built by the ota-cli module before this suite").exists();
    return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
  }

  static Run run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile("ota-out", ".txt");
    Path err = Files.createTempFile("ota-err", ".txt");
    try {
      Process process = start(command, out, err);
      return finish(process, out, err);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  static Run finish(Process process, Path out, Path err) throws IOException, InterruptedException {
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("ota did not finish in 90 s: " + Files.readString(err, StandardCharsets.UTF_8));
    }
    return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
