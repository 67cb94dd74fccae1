package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The CI sample of the real-process I/O-fault campaign ({@code benchmarks/chaos/fiu_campaign.py}):
 * the {@code ota} jar under Debian's libfiu ({@code fiu-run -x}) with random pwrite, fsync,
 * fdatasync, rename and open failures and random {@code kill -9}, a fixed seed set, and the oracle
 * after every run (the boot choice verified by its digest, no confirmed image lost).
 */
class FiuCampaignIT {

  @Test
  void theOtaProcessUnderRandomLibfiuFailuresAndKillsNeverLeavesAnUnsafeBootOrLosesAConfirmedImage()
      throws IOException, InterruptedException {
    assertThat(Path.of("/usr/lib/fiu/fiu_posix_preload.so")).as("fiu-utils (installed by .ci/run)").exists();
    Path script = Path.of(System.getProperty("readme", "../../README.md")).toAbsolutePath().getParent()
        .resolve("benchmarks/chaos/fiu_campaign.py");
    assertThat(Ota.JAR).as("ota.jar is built by the ota-cli module before this suite").exists();
    Path log = Files.createTempFile("fiu-campaign", ".log");
    Process p = new ProcessBuilder("python3", script.toString(), "--jar", Ota.JAR.toString(), "--seed", "19000",
        "--runs", Integer.getInteger("chaos.fiu.runs", 4).toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("the campaign ends").isTrue();
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    System.out.println(out);
    assertThat(out).contains("libfiu campaign").doesNotContain("FAIL ");
    assertThat(p.exitValue()).as(out).isZero();
  }
}
