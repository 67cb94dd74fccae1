package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CI sample of the real-process I/O-fault campaign ({@code benchmarks/chaos/fiu_campaign.py}):
 * the {@code ota} jar under Debian's libfiu ({@code fiu-run -x}) with random pwrite, fsync,
 * fdatasync, rename and open failures and random {@code kill -9}, a fixed seed set, and the oracle
 * after every run (the boot choice verified by its digest, no confirmed image lost), on a file store
 * and on the bootloader stores (U-Boot environment, grubenv), where the oracle also reads the
 * environment with {@code fw_printenv} / {@code grub-editenv} and checks it agrees with
 * {@code ota status}.
 */
class FiuCampaignIT {

  @ParameterizedTest(name = "store {0}, {1} runs")
  @CsvSource({"file, 4", "uboot, 2", "grub, 2"})
  void theOtaProcessUnderRandomLibfiuFailuresAndKillsNeverLeavesAnUnsafeBootOrLosesAConfirmedImage(String store,
      int runs) throws IOException, InterruptedException {
    assertThat(Path.of("/usr/lib/fiu/fiu_posix_preload.so")).as("fiu-utils (installed by .ci/run)").exists();
    Path script = Path.of(System.getProperty("readme", "../../README.md")).toAbsolutePath().getParent()
        .resolve("benchmarks/chaos/fiu_campaign.py");
    assertThat(Ota.JAR).as("ota.jar is built by the ota-cli module before this suite").exists();
    Path log = Files.createTempFile("fiu-campaign", ".log");
    List<String> command = new ArrayList<>(List.of("python3", script.toString(), "--jar", Ota.JAR.toString(),
        "--seed", "19000", "--runs", Integer.getInteger("chaos.fiu.runs", runs).toString()));
    if (!store.equals("file")) {
      command.addAll(List.of("--bootloader", store));
    }
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("the campaign ends").isTrue();
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    System.out.println(out);
    assertThat(out).contains("libfiu campaign, store=" + store).doesNotContain("FAIL ");
    assertThat(p.exitValue()).as(out).isZero();
    if (!store.equals("file")) {
      assertThat(out).as("the bootloader's tools read the environment").containsPattern(
          "runs checked with fw_printenv / grub-editenv +[1-9]");
    }
  }
}
