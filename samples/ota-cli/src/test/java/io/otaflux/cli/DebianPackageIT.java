package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package as Debian's tools and a machine see it: lintian, systemd's unit checker,
 * its files, and (only where enabled: CI, which runs as root) {@code dpkg -i}, the command from
 * /usr/bin, and {@code dpkg -r}/{@code -P} leaving a slot store as it was.
 */
class DebianPackageIT {

  private static final String UNITS = "/lib/systemd/system/";

  @TempDir
  Path dir;

  @Test
  void lintianReportsNoErrors() throws Exception {
    OtaProcess.Run run = Shell.run(List.of("lintian", "--fail-on", "error", Shell.deb().toString()));
    assertThat(run.stdout()).as(run.all()).doesNotContainPattern("(?m)^E: ");
    assertThat(run.exitCode()).as(run.all()).isZero();
  }

  @Test
  void systemdAcceptsTheUnitsWithoutAWarning() throws Exception {
    // systemd-analyze needs no running systemd: it loads the units from a root holding the package's
    // files and the system's targets, and checks every key and that each ExecStart is an executable
    Path root = extract();
    Path units = root.resolve(UNITS.substring(1));
    try (Stream<Path> targets = Files.list(Path.of(UNITS))) {
      for (Path target : targets.filter(f -> f.toString().endsWith(".target")).toList()) {
        Files.copy(target, units.resolve(target.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    OtaProcess.Run run = Shell.run(List.of("systemd-analyze", "--man=no", "--root=" + root, "verify",
        "otaflux-agent.service", "otaflux-confirm.service"));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.all()).as("no warning either").isEmpty();
  }

  @Test
  void systemdRefusesAUnitWhoseProgramIsMissing() throws Exception {
    // the check above can fail: the same verification of a root without the agent's script
    Path root = extract();
    Files.delete(root.resolve("usr/libexec/otaflux/agent"));
    try (Stream<Path> targets = Files.list(Path.of(UNITS))) {
      for (Path target : targets.filter(f -> f.toString().endsWith(".target")).toList()) {
        Files.copy(target, root.resolve(UNITS.substring(1)).resolve(target.getFileName()));
      }
    }
    OtaProcess.Run run = Shell.run(List.of("systemd-analyze", "--man=no", "--root=" + root, "verify",
        "otaflux-agent.service"));
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.all()).contains("/usr/libexec/otaflux/agent");
  }

  @Test
  void packageHoldsTheLauncherTheJarTheManualTheUnitsAndTheSettings() throws Exception {
    String contents = Shell.ok("dpkg-deb", "--contents", Shell.deb().toString()).stdout();
    assertThat(contents).containsPattern("-rwxr-xr-x root/root .* \\./usr/bin/ota\\n")
        .containsPattern("-rw-r--r-- root/root .* \\./usr/share/otaflux/ota\\.jar\\n")
        .containsPattern("-rw-r--r-- root/root .* \\./usr/share/man/man1/ota\\.1\\.gz\\n")
        .containsPattern("-rw-r--r-- root/root .* \\./lib/systemd/system/otaflux-agent\\.service\\n")
        .containsPattern("-rw-r--r-- root/root .* \\./lib/systemd/system/otaflux-confirm\\.service\\n")
        .containsPattern("-rwxr-xr-x root/root .* \\./usr/libexec/otaflux/confirm-boot\\n")
        .containsPattern("-rw-r--r-- root/root .* \\./etc/default/otaflux\\n");
    String control = Shell.ok("dpkg-deb", "--field", Shell.deb().toString(), "Depends").stdout();
    assertThat(control.strip()).isEqualTo("default-jre-headless (>= 2:1.17) | java17-runtime-headless");
    assertThat(Shell.ok("dpkg-deb", "--ctrl-tarfile", Shell.deb().toString()).exitCode()).isZero();
    Path root = extract();
    assertThat(Files.readString(root.resolve("var/lib/dpkg/info/conffiles"))).contains("/etc/default/otaflux");
  }

  @Test
  void manualPageShowsEveryCommandAndRendersWithoutAWarning() throws Exception {
    Path page = extract().resolve("usr/share/man/man1/ota.1.gz");
    OtaProcess.Run run = Shell.run(List.of("man", "--warnings", "-l", page.toString()), Map.of("MANWIDTH", "100"));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.stderr()).as("groff's warnings").isEmpty();
    assertThat(run.stdout()).contains("ota update", "ota get-cert", "ota status", "ota boot", "ota mark-good",
        "ota rollback", "ota init", "ota demo", "ota keygen", "ota manifest create", "ota check", "ota agent",
        "EXIT STATUS", "--slots", "--root-cert", "otaflux-confirm.service");
  }

  /** The package's files under a temporary root, and its control files under var/lib/dpkg/info. */
  private Path extract() throws IOException, InterruptedException {
    Path root = Files.createTempDirectory(dir, "root");
    Shell.ok("dpkg-deb", "-x", Shell.deb().toString(), root.toString());
    Path info = Files.createDirectories(root.resolve("var/lib/dpkg/info"));
    Shell.ok("dpkg-deb", "-e", Shell.deb().toString(), info.toString());
    return root;
  }

  // ---- installing on this machine: only where enabled ----

  /** CI (CI=true, which .ci/run sets, running as root) or -Dotaflux.deb.install=true. */
  static boolean installEnabled() {
    return "true".equals(System.getenv("CI")) || Boolean.getBoolean("otaflux.deb.install");
  }

  @Test
  @EnabledIf("installEnabled")
  void installsRunsFromUsrBinAndRemovingItLeavesTheSlotStoreAsItWas() throws Exception {
    assertThat(Shell.ok("id", "-u").stdout().strip()).as("dpkg -i needs root").isEqualTo("0");
    assertThat(Shell.run(List.of("dpkg", "-s", "otaflux")).exitCode())
        .as("otaflux must not be installed already: this test installs and purges it").isNotZero();
    Path store = Path.of("/var/lib/otaflux");
    assertThat(store).as("the default slot store must not exist already: this test creates and deletes it")
        .doesNotExist();
    try {
      OtaProcess.Run install = Shell.run(List.of("dpkg", "-i", Shell.deb().toString()));
      assertThat(install.exitCode()).as(install.all()).isZero();
      try (Stream<Path> archives = Files.list(Path.of("/var/cache/otaflux"))) {
        assertThat(archives.map(p -> p.getFileName().toString()))
            .as("the class-data archive the postinst recorded").anyMatch(n -> n.matches("ota-\\d+-.*\\.(jsa|aot)"));
      }

      assertThat(Shell.ok("/usr/bin/ota", "--version").stdout().strip()).isEqualTo("ota 0.1.0");
      OtaProcess.Run demo = Shell.ok("/usr/bin/ota", "demo");
      assertThat(demo.stdout()).contains("boots next");
      // installed, the units are checked against the real system, their man page included
      Shell.ok("systemd-analyze", "verify", UNITS + "otaflux-agent.service", UNITS + "otaflux-confirm.service");

      Shell.ok("/usr/bin/ota", "init", "--slots", store.toString(), "--slot-size", "1M");
      Map<String, String> before = fingerprint(store);
      assertThat(before).containsKeys("slot-a.img", "slot-b.img");

      Shell.ok("dpkg", "-r", "otaflux");
      assertThat(Path.of("/usr/bin/ota")).doesNotExist();
      assertThat(Path.of("/var/cache/otaflux")).doesNotExist();
      assertThat(Path.of("/etc/default/otaflux")).as("a conffile stays until purge").exists();
      assertThat(fingerprint(store)).isEqualTo(before);

      Shell.ok("dpkg", "-P", "otaflux");
      assertThat(Path.of("/etc/default/otaflux")).doesNotExist();
      assertThat(fingerprint(store)).as("purging keeps the device's firmware too").isEqualTo(before);
    } finally {
      Shell.run(List.of("dpkg", "-P", "otaflux"));
      Shell.run(List.of("rm", "-rf", store.toString()));
    }
  }

  /** Every file of the store: name to SHA-256 of its bytes and its modification time. */
  private static Map<String, String> fingerprint(Path store) throws IOException, NoSuchAlgorithmException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(store)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        files.put(store.relativize(file).toString(),
            HexFormat.of().formatHex(digest) + " " + Files.getLastModifiedTime(file).toMillis());
      }
    }
    return files;
  }
}
