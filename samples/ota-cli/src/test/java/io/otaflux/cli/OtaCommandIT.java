package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.samples.server.DemoPki;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ota} command as a process, against a local HTTPS firmware server: the contract's
 * exit codes, JSON and {@code error:} line.
 */
class OtaCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] IMAGE = DemoServer.random(3 * 1024 * 1024 + 123, 7);

  @RegisterExtension
  static final DemoServer DEMO = new DemoServer("firmware-2.bin", IMAGE);

  @TempDir
  Path dir;

  private Path slots() {
    return dir.resolve("slots");
  }

  private JsonNode status() throws Exception {
    OtaProcess.Run run = OtaProcess.run("status", "--slots", slots().toString(), "--json");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    return JSON.readTree(run.stdout());
  }

  private OtaProcess.Run update(String... extra) throws Exception {
    return updateOf(DEMO.imageUrl(), extra);
  }

  /** {@code ota update URL --no-progress} into this test's store, trusting the demo DEMO.server(). */
  private OtaProcess.Run updateOf(URI url, String... extra) throws Exception {
    return OtaProcess.run(DEMO.update(url, slots(), extra));
  }

  private void assertStoreAsItWas() throws Exception {
    JsonNode status = status();
    assertThat(status.get("active").asText()).isEqualTo("a");
    assertThat(status.get("next").asText()).isEqualTo("a");
    assertThat(status.at("/slots/a/state").asText()).isEqualTo("good");
  }

  @Test
  void updateInstallsTheImageAsATrialAndStatusSaysSoInTheContractsJson() throws Exception {
    OtaProcess.Run run = update("--sha256", Sha256.digest(IMAGE).hex(), "--size", Integer.toString(IMAGE.length));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(run.stderr()).doesNotContain("error:");
    JsonNode status = status();
    assertThat(status.get("active").asText()).isEqualTo("a");
    assertThat(status.get("next").asText()).isEqualTo("b");
    assertThat(status.at("/slots/a/state").asText()).isEqualTo("good");
    assertThat(status.at("/slots/a/size").asLong()).isZero();
    assertThat(status.at("/slots/a/sha256").isNull()).isTrue();
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("trial");
    assertThat(status.at("/slots/b/size").asLong()).isEqualTo(IMAGE.length);
    assertThat(status.at("/slots/b/sha256").asText()).isEqualTo(Sha256.digest(IMAGE).hex());
    assertThat(status.at("/slots/b/attempts").asInt()).isZero();
    try (java.io.InputStream in = Files.newInputStream(slots().resolve("slot-b.img"))) {
      assertThat(in.readNBytes(IMAGE.length)).isEqualTo(IMAGE);
    }
  }

  @Test
  void anUpdateStartsNeitherTheFlightRecordersEventsNorHttp3sNativeLibrary() throws Exception {
    Path log = dir.resolve("classes.log");
    OtaProcess.Run run = OtaProcess.runWithJvmOptions(List.of("-Xlog:class+load=info:file=" + log),
        DEMO.update(DEMO.imageUrl(), slots()));
    assertThat(run.exitCode()).as(run.all()).isZero();
    assertThat(Files.readString(log)).contains("io.netty.buffer.", "io.netty.handler.ssl.OpenSsl ")
        // Netty's allocator events are JFR events: loading one makes the JVM build its event handlers
        .doesNotContain("io.netty.buffer.AllocateChunkEvent", "jdk.jfr.internal.handlers.EventHandler")
        // Reactor Netty's client asks whether HTTP/3 is available; the JNI methods load with its library
        .doesNotContain("io.netty.handler.codec.quic.QuicheNativeStaticallyReferencedJniMethods");
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(OtaProcess.JAR.toFile())) {
      assertThat(jar.stream().map(java.util.jar.JarEntry::getName).filter(name -> name.startsWith("META-INF/native/")))
          .anyMatch(name -> name.contains("tcnative")).noneMatch(name -> name.contains("quiche"));
    }
  }

  @Test
  void bootCountsTrialsFallsBackOnTheFourthAndMarkGoodAndRollbackMoveTheChoice() throws Exception {
    assertThat(update().exitCode()).isZero();
    for (int i = 1; i <= 3; i++) {
      OtaProcess.Run boot = OtaProcess.run("boot", "--slots", slots().toString());
      assertThat(boot.stdout().strip()).isEqualTo("b");
      assertThat(status().at("/slots/b/attempts").asInt()).isEqualTo(i);
    }
    assertThat(OtaProcess.run("boot", "--slots", slots().toString()).stdout().strip()).isEqualTo("a");
    assertThat(status().at("/slots/b/state").asText()).isEqualTo("invalid");

    assertThat(update().exitCode()).isZero();
    assertThat(OtaProcess.run("boot", "--slots", slots().toString()).stdout().strip()).isEqualTo("b");
    OtaProcess.Run good = OtaProcess.run("mark-good", "--slots", slots().toString());
    assertThat(good.exitCode()).as(good.all()).isZero();
    JsonNode status = status();
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("good");
    assertThat(status.get("next").asText()).isEqualTo("b");

    OtaProcess.Run rollback = OtaProcess.run("rollback", "--slots", slots().toString());
    assertThat(rollback.exitCode()).as(rollback.all()).isZero();
    assertThat(status().get("next").asText()).isEqualTo("a");
    assertThat(OtaProcess.run("boot", "--slots", slots().toString()).stdout().strip()).isEqualTo("a");
  }

  @Test
  void jsonUpdateEventsComeOnePerLine() throws Exception {
    OtaProcess.Run run = update("--json");
    assertThat(run.exitCode()).as(run.all()).isZero();
    List<JsonNode> events = run.stdout().lines().map(OtaCommandIT::parse).toList();
    assertThat(events.get(0).get("event").asText()).isEqualTo("resolved");
    assertThat(events.get(0).get("url").asText()).isEqualTo(DEMO.imageUrl().toString());
    assertThat(events).extracting(e -> e.get("event").asText())
        .contains("progress", "verified", "activated").last().isEqualTo("done");
  }

  @Test
  void aNonHttpsUrlIsAUsageErrorWithExitCode2() throws Exception {
    OtaProcess.Run run = OtaProcess.run("update", "http://localhost:1/fw.bin", "--slots", slots().toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errorLine()).contains("https").contains("Give the image's https:// URL");
  }

  @Test
  void anUnknownOptionIsAUsageErrorWithExitCode2() throws Exception {
    OtaProcess.Run run = OtaProcess.run("update", DEMO.imageUrl().toString(), "--slots", slots().toString(), "--bogus");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errorLine()).contains("--bogus");
  }

  @Test
  void anUntrustedServerIsTrustWithExitCode3() throws Exception {
    OtaProcess.Run run = OtaProcess.run("update", DEMO.imageUrl().toString(), "--slots", slots().toString(), "--no-progress");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(3);
    assertThat(run.errorLine()).startsWith("error: ");
    assertStoreAsItWas();
  }

  @Test
  void aPinThatMatchesNothingIsTrustWithExitCode3() throws Exception {
    OtaProcess.Run run = update("--pin", "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(3);
    assertStoreAsItWas();
  }

  @Test
  void aRefusedConnectionIsNetworkWithExitCode4() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    OtaProcess.Run run = updateOf(URI.create("https://localhost:" + port + "/fw.bin"), "--retries", "1");
    assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
    run.errorLine();
  }

  @Test
  void aMissingImageIsServerWithExitCode5AndTheStatusInTheMessage() throws Exception {
    OtaProcess.Run run = updateOf(DEMO.server().uri("nothing-here.bin"));
    assertThat(run.exitCode()).as(run.all()).isEqualTo(5);
    assertThat(run.errorLine()).contains("404");
    assertStoreAsItWas();
  }

  @Test
  void aDigestMismatchIsIntegrityWithExitCode6() throws Exception {
    OtaProcess.Run run = update("--sha256", Sha256.digest(new byte[] {1}).hex());
    assertThat(run.exitCode()).as(run.all()).isEqualTo(6);
    assertThat(run.errorLine()).contains("SHA-256");
    assertStoreAsItWas();
  }

  @Test
  void anImageLargerThanTheSlotIsStorageWithExitCode7() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", slots().toString(), "--slot-size", "1M").exitCode()).isZero();
    OtaProcess.Run run = update();
    assertThat(run.exitCode()).as(run.all()).isEqualTo(7);
    assertThat(run.errorLine()).contains("larger than");
    assertThat(Files.size(slots().resolve("slot-b.img"))).isLessThanOrEqualTo(1024 * 1024);
    assertStoreAsItWas();
  }

  @Test
  void aRedirectToPlainHttpIsPolicyWithExitCode9() throws Exception {
    URI downgrade = DEMO.server().redirect("downgrade.bin", "http://localhost:" + DEMO.server().port() + "/firmware-2.bin");
    OtaProcess.Run run = updateOf(downgrade);
    assertThat(run.exitCode()).as(run.all()).isEqualTo(9);
    run.errorLine();
    assertStoreAsItWas();
  }

  /** What aborts a running {@code ota update}. */
  @FunctionalInterface
  private interface Abort {
    void abort(Process process) throws Exception;
  }

  /**
   * Runs {@code ota update --json} of an 8 MiB image the server sends slowly, aborts it with
   * {@code abort}, and checks the run ends in exit 8 with an "aborted" error line, the store as it was.
   */
  private void abortsCleanly(String name, long seed, Abort abort, String... extra) throws Exception {
    URI slow = DEMO.server().publish(name, DemoServer.random(8 * 1024 * 1024, seed));
    DEMO.server().pace(Duration.ofMillis(20));
    try {
      List<String> args = DEMO.update(slow, slots(), "--json");
      args.remove("--no-progress");
      args.addAll(List.of(extra));
      Process process = OtaProcess.start(args.toArray(String[]::new));
      abort.abort(process);
      OtaProcess.Run run = OtaProcess.finish(process);
      assertThat(run.exitCode()).as(run.all()).isEqualTo(8);
      assertThat(run.errorLine()).contains("aborted");
    } finally {
      DEMO.server().pace(Duration.ZERO);
    }
    assertStoreAsItWas();
  }

  /** Waits (at most until {@code deadline}, a nanoTime) for the first progress event on the process's stdout. */
  private static void awaitProgress(Process process, long deadline) throws IOException {
    while (!OtaProcess.stdoutSoFar(process).contains("\"progress\"") && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }

  @Test
  void sigintAbortsCleanlyWithExitCode8AndLeavesTheStoreAsItWas() throws Exception {
    abortsCleanly("slow.bin", 3, process -> {
      awaitProgress(process, System.nanoTime() + Duration.ofSeconds(60).toNanos());
      new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
    });
    assertThat(status().at("/slots/b/state").asText()).isNotIn("trial", "good");
  }

  @Test
  void theWebUisAbortButtonAbortsTheUpdateWithExitCode8() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    abortsCleanly("slow-web.bin", 4, process -> {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      URI page = URI.create("http://127.0.0.1:" + port + "/");
      String html = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (html == null && System.nanoTime() < deadline) {
        try {
          html = http.send(java.net.http.HttpRequest.newBuilder(page).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        } catch (java.net.ConnectException notYet) {
          Thread.onSpinWait();
        }
      }
      assertThat(html).as("the status page answered").isNotNull();
      java.util.regex.Matcher token = java.util.regex.Pattern
          .compile("name=\"otaflux-token\" content=\"([^\"]+)\"").matcher(html);
      assertThat(token.find()).isTrue();
      awaitProgress(process, deadline);
      int status = http.send(java.net.http.HttpRequest.newBuilder(page.resolve("abort"))
          .header("X-OtaFlux-Token", token.group(1))
          .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
      assertThat(status).isEqualTo(202);
    }, "--web-ui", Integer.toString(port));
  }

  @Test
  void getCertFollowsRedirectsAndSavesTheRootAsPemOrAsTheOriginalsCHeader() throws Exception {
    Path bundle = dir.resolve("bundle.pem");
    Files.writeString(bundle, DemoPki.pem(DEMO.server().pki().root()), StandardCharsets.US_ASCII);
    URI latest = DEMO.server().redirect("get-cert-latest", "/firmware-2.bin");
    Path out = dir.resolve("certs");
    Files.createDirectories(out);
    OtaProcess.Run pem = OtaProcess.run("get-cert", latest.toString(), "--out", out.toString(),
        "--trust-store", bundle.toString());
    assertThat(pem.exitCode()).as(pem.all()).isZero();
    List<String> lines = pem.stdout().lines().toList();
    int effective = lines.indexOf("The effective download URL (after resolving forwards) is:");
    assertThat(lines.get(effective + 1)).isEqualTo("    " + DEMO.imageUrl());
    int saved = lines.indexOf("The root certificate file is saved as:");
    assertThat(lines.get(saved + 1).strip()).isEqualTo(out.resolve("localhost.pem").toString());
    assertThat(pem.stdout()).contains("OtaFlux Demo Root CA").contains("sha256/").contains("Not after:");
    assertThat(pem.stderr()).containsIgnoringCase("trust on first use");
    assertThat(Files.readString(out.resolve("localhost.pem"))).contains("-----BEGIN CERTIFICATE-----");

    OtaProcess.Run header = OtaProcess.run("get-cert", latest.toString(), "--out", out.toString(),
        "--trust-store", bundle.toString(), "--format", "c-header");
    assertThat(header.exitCode()).as(header.all()).isZero();
    assertThat(Files.readString(out.resolve("localhost.h")))
        .contains("const char* root_cert = \\")
        .contains("\"-----BEGIN CERTIFICATE-----\\n\" \\");

    // the saved root is what `update --root-cert` pins
    OtaProcess.Run update = OtaProcess.run("update", DEMO.imageUrl().toString(), "--slots", slots().toString(),
        "--root-cert", out.resolve("localhost.pem").toString(), "--no-progress");
    assertThat(update.exitCode()).as(update.all()).isZero();
    OtaProcess.Run human = OtaProcess.run("status", "--slots", slots().toString());
    assertThat(human.stdout()).contains("next boot: slot b").contains("slot b: trial");
  }

  @Test
  void noPasswordOrTokenIsEverPrinted() throws Exception {
    URI withSecret = URI.create("https://alice:s3cr3t-pw@localhost:" + DEMO.server().port() + "/missing.bin");
    OtaProcess.Run basic = OtaProcess.run("update", withSecret.toString(), "--slots", slots().toString(),
        "--root-cert", DEMO.rootPem().toString(), "--json");
    assertThat(basic.exitCode()).isEqualTo(5);
    assertThat(basic.all()).doesNotContain("s3cr3t-pw").doesNotContain("alice:");
    OtaProcess.Run bearer = OtaProcess.run("update", DEMO.server().uri("missing.bin").toString(), "--slots",
        slots().toString(), "--root-cert", DEMO.rootPem().toString(), "--bearer", "tok-XYZZY-123");
    assertThat(bearer.exitCode()).isEqualTo(5);
    assertThat(bearer.all()).doesNotContain("tok-XYZZY-123");
  }

  @Test
  void statusOfADirectoryWithoutAStoreIsAClearStorageError() throws Exception {
    OtaProcess.Run run = OtaProcess.run("status", "--slots", dir.resolve("nothing").toString());
    assertThat(run.exitCode()).isEqualTo(7);
    assertThat(run.errorLine()).contains("ota init");
  }

  private OtaProcess.Run ota(String command) throws Exception {
    OtaProcess.Run run = OtaProcess.run(command, "--slots", slots().toString());
    assertThat(run.exitCode()).as(run.all()).isZero();
    return run;
  }

  /** Every file of the store (slots and boot state, not the lock files), byte for byte. */
  private java.util.Map<String, byte[]> storeFiles() throws IOException {
    java.util.Map<String, byte[]> files = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> list = Files.list(slots())) {
      for (Path p : (Iterable<Path>) list::iterator) {
        if (!p.getFileName().toString().endsWith(".lock")) {
          files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
      }
    }
    return files;
  }

  @Test
  void anUpdateDuringAnUnconfirmedTrialIsPolicyWithExitCode9AndChangesNoByte() throws Exception {
    assertThat(update().exitCode()).isZero();
    assertThat(ota("boot").stdout().strip()).isEqualTo("b");
    JsonNode before = status();
    java.util.Map<String, byte[]> bytes = storeFiles();
    OtaProcess.Run run = update();
    assertThat(run.exitCode()).as(run.all()).isEqualTo(9);
    assertThat(run.errorLine()).contains("unconfirmed trial", "`ota mark-good`", "`ota rollback`", "unchanged");
    assertThat(run.stdout()).doesNotContain("resolved");
    assertThat(storeFiles()).as("the sentence says unchanged: every byte is").containsExactlyInAnyOrderEntriesOf(bytes);
    assertThat(status()).isEqualTo(before);
    // confirmed, the next update is welcome and writes the other slot
    ota("mark-good");
    assertThat(update().exitCode()).isZero();
    assertThat(status().get("next").asText()).isEqualTo("a");
  }

  @Test
  void updateBootRollbackUpdateIsPolicyWithExitCode9UntilTheRebootAndTheGoodImageIsKept() throws Exception {
    assertThat(update().exitCode()).isZero();
    ota("boot");
    ota("rollback");
    JsonNode before = status();
    java.util.Map<String, byte[]> bytes = storeFiles();
    OtaProcess.Run run = update();
    assertThat(run.exitCode()).as(run.all()).isEqualTo(9);
    assertThat(run.errorLine()).contains("reboot into the boot choice first", "`ota boot`", "unchanged");
    assertThat(storeFiles()).containsExactlyInAnyOrderEntriesOf(bytes);
    assertThat(status()).isEqualTo(before);
    assertThat(before.get("next").asText()).isEqualTo("a");
    // rebooted into the good slot a, the update writes the rolled-back slot b
    assertThat(ota("boot").stdout().strip()).isEqualTo("a");
    assertThat(update().exitCode()).isZero();
    assertThat(status().at("/slots/a/state").asText()).isEqualTo("good");
    assertThat(status().get("next").asText()).isEqualTo("b");
  }

  @Test
  void anUpdateAfterAnActivationNotYetBootedIsPolicyWithExitCode9AndRollbackDropsIt() throws Exception {
    assertThat(update().exitCode()).isZero();
    OtaProcess.Run run = update();
    assertThat(run.exitCode()).as(run.all()).isEqualTo(9);
    assertThat(run.errorLine()).contains("has not booted it yet", "`ota rollback`");
    ota("rollback");
    assertThat(update().exitCode()).isZero();
  }

  @Test
  void initOverAStoreIsUsageWithExitCode2SayingWhatForceDestroysAndForceRecreatesIt() throws Exception {
    assertThat(update().exitCode()).isZero();
    ota("boot");
    ota("mark-good");
    java.util.Map<String, byte[]> bytes = storeFiles();
    OtaProcess.Run again = OtaProcess.run("init", "--slots", slots().toString());
    assertThat(again.exitCode()).as(again.all()).isEqualTo(2);
    assertThat(again.errorLine()).contains("already holds a slot store", "nothing was changed", "--force",
        "destroy", "slot files", "boot state", "confirmed image");
    assertThat(storeFiles()).containsExactlyInAnyOrderEntriesOf(bytes);

    // a damaged boot state: refused by init and by update, never re-initialised behind the user's back
    Files.write(slots().resolve("boot-state"), new byte[4096]);
    bytes = storeFiles();
    OtaProcess.Run damaged = OtaProcess.run("status", "--slots", slots().toString());
    assertThat(damaged.exitCode()).isEqualTo(7);
    assertThat(damaged.errorLine()).contains("damaged", "changes nothing", "backup")
        .contains("`ota init --force` re-creates the store, destroying");
    assertThat(OtaProcess.run("init", "--slots", slots().toString()).exitCode()).isEqualTo(2);
    assertThat(update().exitCode()).isEqualTo(7);
    assertThat(storeFiles()).containsExactlyInAnyOrderEntriesOf(bytes);

    OtaProcess.Run force = OtaProcess.run("init", "--slots", slots().toString(), "--force", "--slot-size", "8M");
    assertThat(force.exitCode()).as(force.all()).isZero();
    JsonNode status = status();
    assertThat(status.at("/slots/a/state").asText()).isEqualTo("good");
    assertThat(status.at("/slots/b/state").asText()).isEqualTo("empty");
    assertThat(Files.size(slots().resolve("slot-b.img"))).isZero();
  }

  @Test
  void afterASmallerImageTheSlotFilesSha256IsTheRecordedDigest() throws Exception {
    byte[] large = DemoServer.random(1024 * 1024, 11);
    byte[] small = DemoServer.random(1000, 12);
    for (byte[] next : new byte[][] {large, IMAGE, small}) {
      OtaProcess.Run run = updateOf(DEMO.server().publish("sized-" + next.length + ".bin", next));
      assertThat(run.exitCode()).as(run.all()).isZero();
      ota("boot");
      ota("mark-good");
    }
    JsonNode status = status();
    assertThat(status.get("active").asText()).isEqualTo("b");
    assertThat(Files.size(slots().resolve("slot-b.img"))).isEqualTo(small.length);
    assertThat(Sha256.digest(Files.readAllBytes(slots().resolve("slot-b.img"))).hex())
        .isEqualTo(status.at("/slots/b/sha256").asText());
    Process sha = new ProcessBuilder("sha256sum", slots().resolve("slot-b.img").toString()).start();
    String line = new String(sha.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(sha.waitFor()).isZero();
    assertThat(line.split("\\s+")[0]).isEqualTo(status.at("/slots/b/sha256").asText());
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

}
