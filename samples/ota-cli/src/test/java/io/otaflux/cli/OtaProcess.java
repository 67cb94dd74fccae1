package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code java -jar ota.jar ...} as a person or a boot script would, and keeps what it printed. */
final class OtaProcess {

  static final Path JAR = Path.of(System.getProperty("ota.jar", "target/ota.jar"));

  /**
   * The class-data archive of the jar's classes that the build records before the integration tests (the launcher's
   * start-up lever; only start-up CPU changes, the command runs the same), or none.
   */
  static final List<String> ARCHIVE = archive(System.getProperty("ota.archive"));

  private OtaProcess() {
  }

  /** What one run printed and how it ended. */
  record Run(int exitCode, String stdout, String stderr) {
    String errorLine() {
      List<String> lines = stderr.lines().filter(l -> l.startsWith("error: ")).toList();
      assertThat(lines).as("exactly one error: line in\n" + stderr).hasSize(1);
      return lines.get(0);
    }

    String all() {
      return stdout + stderr;
    }
  }

  static ProcessBuilder builder(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx48m");
    command.addAll(ARCHIVE);
    command.add("-jar");
    command.add(JAR.toAbsolutePath().toString());
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  /** {@code -XX:SharedArchiveFile} when {@code file} exists; a stale or damaged archive is ignored by the JVM, silently. */
  static List<String> archive(String file) {
    return file != null && Files.isRegularFile(Path.of(file))
        ? List.of("-XX:SharedArchiveFile=" + file, "-Xlog:cds*=off")
        : List.of();
  }

  static Run run(String... args) throws IOException, InterruptedException {
    Process process = start(args);
    return finish(process);
  }

  static Run run(List<String> args) throws IOException, InterruptedException {
    return run(args.toArray(String[]::new));
  }

  static Process start(String... args) throws IOException {
    return start(builder(args));
  }

  /**
   * Runs {@code ota} with no proxy variables from this environment, and then {@code env} added.
   */
  static Run runWith(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
    ProcessBuilder builder = builder(args);
    for (String name : List.of("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")) {
      builder.environment().remove(name);
    }
    builder.environment().putAll(env);
    return finish(start(builder));
  }

  /** Runs {@code ota} with these JVM options added before {@code -jar}. */
  static Run runWithJvmOptions(List<String> options, List<String> args) throws IOException, InterruptedException {
    ProcessBuilder builder = builder(args.toArray(String[]::new));
    builder.command().addAll(1, options);
    return finish(start(builder));
  }

  private static Process start(ProcessBuilder command) throws IOException {
    assertThat(JAR).as("the jar is built by `mvn package` before the integration tests").exists();
    Path out = Files.createTempFile("ota-out", ".txt");
    Path err = Files.createTempFile("ota-err", ".txt");
    ProcessBuilder builder = command.redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    OUTPUTS.put(process, new Path[] {out, err});
    return process;
  }

  static String stdoutSoFar(Process process) throws IOException {
    return Files.readString(OUTPUTS.get(process)[0], StandardCharsets.UTF_8);
  }

  static Run finish(Process process) throws IOException, InterruptedException {
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("ota finished in time").isTrue();
    Path[] files = OUTPUTS.remove(process);
    String stdout = Files.readString(files[0], StandardCharsets.UTF_8);
    String stderr = Files.readString(files[1], StandardCharsets.UTF_8);
    Files.deleteIfExists(files[0]);
    Files.deleteIfExists(files[1]);
    return new Run(process.exitValue(), stdout, stderr);
  }

  private static final java.util.Map<Process, Path[]> OUTPUTS = new java.util.concurrent.ConcurrentHashMap<>();
}
