package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** manifest create --delta --compress, then update --manifest as a process: a full download, then a delta. */
class DeltaCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static FirmwareServer server;
  private static Path keys;
  private static Path rootPem;
  private static byte[] image1;
  private static byte[] image2;
  private static long transfer1;
  private static long transfer2;

  @TempDir
  Path dir;

  @BeforeAll
  static void setUp(@TempDir Path work) throws Exception {
    server = FirmwareServer.start();
    rootPem = work.resolve("root.pem");
    Files.writeString(rootPem, DemoPki.pem(server.pki().root()), StandardCharsets.US_ASCII);
    keys = work.resolve("keys");
    assertThat(OtaProcess.run("keygen", "--out", keys.toString()).exitCode()).isZero();
    image1 = new byte[2 << 20];
    new Random(1).nextBytes(image1);
    image2 = image1.clone();
    byte[] patch = new byte[30_000];
    new Random(2).nextBytes(patch);
    System.arraycopy(patch, 0, image2, 1_500_000, patch.length);
    transfer1 = publish(work, "fw-1.0.0.img", image1, "1.0.0", "m-1.0.0.json");
    transfer2 = publish(work, "fw-2.0.0.img", image2, "2.0.0", "m-2.0.0.json");
  }

  /** Publishes an image with --delta --compress zstd; returns the transfer file's size. */
  private static long publish(Path work, String name, byte[] image, String version, String manifest) throws Exception {
    Path file = work.resolve(name);
    Files.write(file, image);
    OtaProcess.Run run = OtaProcess.run("manifest", "create", file.toString(), "--version", version, "--url", name,
        "--key", keys.resolve(KeygenCommand.PRIVATE).toString(), "--delta", "--compress", "zstd");
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.stderr()).contains(name + ".zst").contains(name + ".chunks.zst").contains(name + ".idx");
    JsonNode m = JSON.readTree(run.stdout());
    assertThat(m.get("transferUrl").asText()).isEqualTo(name + ".zst");
    assertThat(m.get("indexUrl").asText()).isEqualTo(name + ".idx");
    server.publish(name, image);
    server.publish(name + ".zst", Files.readAllBytes(work.resolve(name + ".zst")));
    server.publish(name + ".idx", Files.readAllBytes(work.resolve(name + ".idx")));
    server.publish(name + ".chunks.zst", Files.readAllBytes(work.resolve(name + ".chunks.zst")));
    server.publish(manifest, run.stdout().getBytes(StandardCharsets.UTF_8));
    return Files.size(work.resolve(name + ".zst"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private String slots() {
    return dir.resolve("slots").toString();
  }

  private JsonNode update(String manifest, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("update", "--manifest", server.uri(manifest).toString(), "--slots",
        slots(), "--root-cert", rootPem.toString(), "--trusted-key", keys.resolve(KeygenCommand.PUBLIC).toString(),
        "--json"));
    args.addAll(List.of(extra));
    OtaProcess.Run run = OtaProcess.run(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.all()).isZero();
    String[] lines = run.stdout().strip().split("\n");
    JsonNode done = JSON.readTree(lines[lines.length - 1]);
    assertThat(done.get("event").asText()).isEqualTo("done");
    return done;
  }

  @Test
  void aSecondUpdateIsADeltaThatDownloadsOnlyWhatChangedAndReusesTheRunningSlot() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    JsonNode first = update("m-1.0.0.json");
    assertThat(first.get("sha256").asText()).isEqualTo(Sha256.digest(image1).hex());
    assertThat(first.get("reused").asLong()).isZero();
    assertThat(first.get("downloaded").asLong()).isGreaterThanOrEqualTo(transfer1);
    assertThat(OtaProcess.run("boot", "--slots", slots()).stdout().strip()).isEqualTo("b");
    assertThat(OtaProcess.run("mark-good", "--slots", slots()).exitCode()).isZero();

    JsonNode second = update("m-2.0.0.json");

    assertThat(second.get("slot").asText()).isEqualTo("a");
    assertThat(second.get("sha256").asText()).isEqualTo(Sha256.digest(image2).hex());
    assertThat(second.get("reused").asLong()).isGreaterThan(image2.length * 9L / 10);
    assertThat(second.get("downloaded").asLong()).isPositive().isLessThan(transfer2 / 10);
  }

  @Test
  void noDeltaDownloadsTheWholeCompressedImage() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots(), "--slot-size", "4M").exitCode()).isZero();
    JsonNode done = update("m-1.0.0.json", "--no-delta");
    assertThat(done.get("reused").asLong()).isZero();
    assertThat(done.get("downloaded").asLong()).isEqualTo(transfer1);
    assertThat(done.get("sha256").asText()).isEqualTo(Sha256.digest(image1).hex());
  }
}
