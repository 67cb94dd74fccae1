package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ota} (target/ota, /usr/bin/ota in the package): the class-data archive it
 * records on a first run and uses after, and that nothing of it shows when the archive is missing,
 * damaged or cannot be written: same output, same exit code, same {@code error:} line.
 */
class LauncherIT {

  private static final Path LAUNCHER = Shell.TARGET.resolve("ota");

  @RegisterExtension
  static final DemoServer DEMO = new DemoServer("firmware-2.bin", DemoServer.random(256 * 1024, 3));

  @TempDir
  Path dir;

  private OtaProcess.Run ota(Path cache, String... args) throws Exception {
    return ota(cache, Map.of(), args);
  }

  private OtaProcess.Run ota(Path cache, Map<String, String> extra, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    Map<String, String> environment = new java.util.HashMap<>(Map.of(
        "JAVA_HOME", System.getProperty("java.home"), "OTA_CACHE_DIR", cache.toString()));
    environment.putAll(extra);
    return Shell.run(command, environment);
  }

  private List<Path> archives(Path cache) throws Exception {
    if (!Files.isDirectory(cache)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(cache)) {
      return files.toList();
    }
  }

  @Test
  void firstRunRecordsAnArchiveForThisJarAndJvmAndLaterRunsLoadTheCommandFromIt() throws Exception {
    Path cache = dir.resolve("cache");
    Path slots = dir.resolve("slots");
    OtaProcess.Run init = ota(cache, "init", "--slots", slots.toString(), "--slot-size", "1M");
    assertThat(init.exitCode()).as(init.all()).isZero();
    assertThat(init.stdout()).startsWith("Initialised the slot store");
    assertThat(archives(cache)).singleElement().satisfies(archive -> assertThat(archive.getFileName().toString())
        .matches("ota-" + Runtime.version().feature() + "(-\\d+){6}\\.jsa"));

    Path log = dir.resolve("classes.log");
    OtaProcess.Run status = ota(cache, Map.of("OTA_JAVA_OPTS", "-Xlog:class+load=info:file=" + log),
        "status", "--slots", slots.toString(), "--json");
    assertThat(status.exitCode()).as(status.all()).isZero();
    assertThat(new ObjectMapper().readTree(status.stdout()).get("active").asText()).isEqualTo("a");
    assertThat(status.stdout().lines()).hasSize(1);
    assertThat(status.stderr()).isEmpty();
    assertThat(Files.readString(log)).containsPattern("io\\.otaflux\\.cli\\.Ota source: shared objects file \\(top\\)");
    assertThat(archives(cache)).hasSize(1);
  }

  @Test
  void aTrainingRunRecordsOneArchiveThatHoldsTheClassesOfTheCommonCommands() throws Exception {
    Path cache = dir.resolve("cache");
    OtaProcess.Run training = ota(cache, Map.of("OTA_ARCHIVE", "train"));
    assertThat(training.exitCode()).as(training.all()).isZero();
    assertThat(archives(cache)).singleElement().satisfies(archive -> assertThat(archive.getFileName().toString())
        .endsWith(".jsa"));

    // a command the training ran, but not the one it ran first: its JSON comes from the archive too
    Path slots = dir.resolve("slots");
    assertThat(ota(cache, "init", "--slots", slots.toString(), "--slot-size", "1M").exitCode()).isZero();
    Path log = dir.resolve("classes.log");
    OtaProcess.Run status = ota(cache, Map.of("OTA_JAVA_OPTS", "-Xlog:class+load=info:file=" + log),
        "status", "--slots", slots.toString(), "--json");
    assertThat(status.exitCode()).as(status.all()).isZero();
    assertThat(Files.readString(log))
        .containsPattern("com\\.fasterxml\\.jackson\\.databind\\.ObjectMapper source: shared objects file \\(top\\)")
        .containsPattern("io\\.otaflux\\.cli\\.StatusCommand source: shared objects file \\(top\\)")
        .doesNotContain("source: file:");
    assertThat(archives(cache)).hasSize(1);
  }

  @Test
  void aDamagedArchiveChangesNothingTheCommandPrints() throws Exception {
    Path cache = dir.resolve("cache");
    Path slots = dir.resolve("slots");
    assertThat(ota(cache, "init", "--slots", slots.toString(), "--slot-size", "1M").exitCode()).isZero();
    Path archive = archives(cache).get(0);
    byte[] garbage = new byte[64 * 1024];
    new Random(1).nextBytes(garbage);
    Files.write(archive, garbage);

    OtaProcess.Run status = ota(cache, "status", "--slots", slots.toString(), "--json");
    assertThat(status.exitCode()).as(status.all()).isZero();
    assertThat(status.stderr()).isEmpty();
    assertThat(new ObjectMapper().readTree(status.stdout()).at("/slots/a/state").asText()).isEqualTo("good");
    assertThat(status.stdout().lines()).hasSize(1);
  }

  @Test
  void theRecordingRunKeepsTheCommandsExitCodeAndErrorLine() throws Exception {
    Path missing = dir.resolve("no-store");
    OtaProcess.Run plain = OtaProcess.run("status", "--slots", missing.toString());
    OtaProcess.Run recording = ota(dir.resolve("cache"), "status", "--slots", missing.toString());
    assertThat(plain.exitCode()).isNotZero();
    assertThat(recording.exitCode()).isEqualTo(plain.exitCode());
    assertThat(recording.errorLine()).isEqualTo(plain.errorLine());
    assertThat(recording.stdout()).isEqualTo(plain.stdout());

    OtaProcess.Run usage = ota(dir.resolve("cache2"), "status");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.errorLine()).isEqualTo("error: Missing required option: '--slots=DIR'. Run `ota status --help` for the options.");
  }

  @Test
  void withoutAWritableCacheTheCommandRunsWithoutAnArchive() throws Exception {
    Path readOnly = dir.resolve("not-a-directory");
    Files.writeString(readOnly, "a file where the cache would go");
    Path slots = dir.resolve("slots");
    OtaProcess.Run init = ota(readOnly, "init", "--slots", slots.toString(), "--slot-size", "1M");
    assertThat(init.exitCode()).as(init.all()).isZero();
    assertThat(init.stderr()).isEmpty();
    OtaProcess.Run off = ota(dir.resolve("cache"), Map.of("OTA_ARCHIVE", "off"), "status", "--slots", slots.toString());
    assertThat(off.exitCode()).as(off.all()).isZero();
    assertThat(off.stdout()).contains("running: slot a");
    assertThat(dir.resolve("cache")).doesNotExist();
  }

  @Test
  void onAJdk24OrLaterAnUpdateRunsWithNettysUnsafeAndPrintsNoWarnings() throws Exception {
    Path jdk = newestJdk();
    assumeTrue(jdk != null, "a JDK 24 or later under /usr/lib/jvm (this machine image's Temurin 25)");
    Path cache = dir.resolve("cache");
    Map<String, String> environment = Map.of("JAVA_HOME", jdk.toString(), "OTA_CACHE_DIR", cache.toString(),
        "OTA_JAVA_OPTS", "-Dorg.slf4j.simpleLogger.log.io.netty.util.internal.PlatformDependent0=debug");
    for (int run = 0; run < 2; run++) { // the run that records the archive, then one that uses it
      List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
      command.addAll(DEMO.update(DEMO.imageUrl(), dir.resolve("slots-" + run)));
      OtaProcess.Run update = Shell.run(command, environment);
      assertThat(update.exitCode()).as(update.all()).isZero();
      // JDK 24+ warns of System.loadLibrary without native access; Netty 4.2 leaves Unsafe alone on
      // JDK 25+ unless its memory access is allowed, and runs slower without it
      assertThat(update.stderr()).as(jdk.toString()).doesNotContain("WARNING")
          .contains("sun.misc.Unsafe.theUnsafe: available").doesNotContain("Unsafe: unavailable");
    }
    assertThat(archives(cache)).singleElement()
        .satisfies(archive -> assertThat(archive.getFileName().toString()).startsWith("ota-2"));
  }

  /** The newest JDK of feature release 24 or later in /usr/lib/jvm, or null. */
  private static Path newestJdk() throws Exception {
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return null;
    }
    Path best = null;
    int bestVersion = 23;
    try (Stream<Path> homes = Files.list(jvms)) {
      for (Path home : homes.toList()) {
        Path release = home.resolve("release");
        if (!Files.isExecutable(home.resolve("bin/java")) || !Files.isRegularFile(release)) {
          continue;
        }
        java.util.regex.Matcher version = java.util.regex.Pattern.compile("JAVA_VERSION=\"(\\d+)")
            .matcher(Files.readString(release));
        if (version.find() && Integer.parseInt(version.group(1)) > bestVersion) {
          bestVersion = Integer.parseInt(version.group(1));
          best = home;
        }
      }
    }
    return best;
  }

  @Test
  void theLauncherRunsTheSerialCollectorUnlessOtaJavaOptsChoosesAnother() throws Exception {
    Path cache = dir.resolve("cache");
    Path slots = dir.resolve("slots");
    assertThat(ota(cache, "init", "--slots", slots.toString(), "--slot-size", "1M").exitCode()).isZero();
    for (String[] choice : new String[][] {{"", "Serial"}, {"-XX:+UseG1GC ", "G1"}, {"-Xss1m -XX:+UseParallelGC", "Parallel"}}) {
      Path log = dir.resolve("gc-" + choice[1] + ".log");
      OtaProcess.Run status = ota(cache, Map.of("OTA_JAVA_OPTS", choice[0] + " -Xlog:gc:file=" + log),
          "status", "--slots", slots.toString());
      assertThat(status.exitCode()).as(status.all()).isZero();
      assertThat(Files.readString(log)).contains("Using " + choice[1]);
    }
  }

  @Test
  void versionAndHelpNeitherRecordNorNeedAnArchive() throws Exception {
    Path cache = dir.resolve("cache");
    OtaProcess.Run version = ota(cache, "--version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.stdout().strip()).isEqualTo("ota 0.1.0");
    OtaProcess.Run help = ota(cache, "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("update", "status", "agent");
    assertThat(archives(cache)).isEmpty();
  }
}
