package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a program (the launcher, a package tool, a unit's script) as a process and keeps what it printed. */
final class Shell {

  /** The build's target directory: ota.jar, the launcher {@code ota} and the package. */
  static final Path TARGET = OtaProcess.JAR.toAbsolutePath().getParent();

  private Shell() {
  }

  static OtaProcess.Run run(List<String> command) throws IOException, InterruptedException {
    return run(command, Map.of());
  }

  static OtaProcess.Run run(List<String> command, Map<String, String> environment)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("shell-out", ".txt");
    Path err = Files.createTempFile("shell-err", ".txt");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      builder.environment().putAll(environment);
      Process process = builder.start();
      if (!process.waitFor(5, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("still running after 5 minutes: " + command);
      }
      return new OtaProcess.Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** Runs the command and requires exit code 0. */
  static OtaProcess.Run ok(String... command) throws IOException, InterruptedException {
    OtaProcess.Run run = run(List.of(command));
    assertThat(run.exitCode()).as("%s\n%s", String.join(" ", command), run.all()).isZero();
    return run;
  }

  /** The package the build made ({@code mvn verify}: target/otaflux_VERSION_all.deb). */
  static Path deb() throws IOException {
    try (var files = Files.list(TARGET)) {
      List<Path> debs = files.filter(f -> f.getFileName().toString().matches("otaflux_.*_all\\.deb")).toList();
      assertThat(debs).as("the package, built by jdeb in pre-integration-test").hasSize(1);
      return debs.get(0);
    }
  }
}
