package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.PKI;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Sha256;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ota} command as a process under faults the JVM cannot fake: a full disk and a
 * read-only file system (a tmpfs in a private mount namespace, {@code unshare -rm}), fsync
 * failing with EIO ({@code strace -e inject}), SIGTERM; and the exit code and {@code error:}
 * line of each failure family. Each case checks the store with {@code ota status --json}
 * afterwards: slot a still running, still the boot choice.
 */
@ExtendWith(NoLeaks.class)
class CliFaultsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long a JVM may take to start and send its first request on a loaded machine: as long as {@link Ota#finish} waits. */
  private static final java.time.Duration START = java.time.Duration.ofSeconds(90);
  private static final byte[] IMAGE = Bench.image(900_000, 21);
  private static TestServer server;
  private static TestServer untrusted;
  private static TestServer plain;
  private static Path rootPem;

  @TempDir
  Path dir;

  @BeforeAll
  static void start(@TempDir Path certs) throws Exception {
    server = TestServer.https(PKI.localhost()).route("/fw.bin", Routes.image(IMAGE))
        .route("/stall.bin", Routes.image(IMAGE).stallFirstAt(200_000));
    plain = TestServer.plainHttp().route("/fw.bin", Routes.image(IMAGE));
    server.route("/to-http", Routes.redirect(302, plain.url("/fw.bin")));
    untrusted = TestServer.https(PKI.unrelatedLocalhost()).route("/fw.bin", Routes.image(IMAGE));
    rootPem = certs.resolve("root.pem");
    Files.writeString(rootPem, PKI.root().pem(), StandardCharsets.US_ASCII);
  }

  @AfterAll
  static void stop() {
    server.close();
    untrusted.close();
    plain.close();
  }

  private static String[] update(Path slots, String url, String... extra) {
    List<String> args = new ArrayList<>(List.of("update", url, "--slots", slots.toString(), "--root-cert",
        rootPem.toString(), "--no-progress", "--retries", "0"));
    if (!List.of(extra).contains("--timeout")) {
      args.addAll(List.of("--timeout", "2s"));
    }
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  private static void assertRunningSlotUnchanged(String statusJson) throws Exception {
    JsonNode status = JSON.readTree(statusJson);
    assertThat(status.get("active").asText()).as(statusJson).isEqualTo("a");
    assertThat(status.get("next").asText()).as(statusJson).isEqualTo("a");
    assertThat(status.at("/slots/a/state").asText()).as(statusJson).isEqualTo("good");
    assertThat(status.at("/slots/b/state").asText()).as(statusJson).isNotEqualTo("trial");
  }

  /** init, update and status in one shell, inside a private mount namespace with a small tmpfs at MNT. */
  private Ota.Run inMountNamespace(String tmpfsOptions, boolean readOnly, Path status) throws Exception {
    Path mnt = dir.resolve("mnt");
    Files.createDirectories(mnt);
    Path slots = mnt.resolve("slots");
    String script = "set -e\n"
        + "mount -t tmpfs -o " + tmpfsOptions + " otaflux-test " + mnt + "\n"
        + Ota.shell("init", "--slots", slots.toString(), "--slot-size", "1M") + " >/dev/null\n"
        + (readOnly ? "mount -o remount,ro " + mnt + "\n" : "")
        + "set +e\n"
        + Ota.shell(update(slots, server.url("/fw.bin"))) + "\n"
        + "code=$?\n"
        + Ota.shell("status", "--slots", slots.toString(), "--json") + " > " + status + "\n"
        + "exit $code\n";
    return Ota.run(List.of("unshare", "-rm", "sh", "-c", script));
  }

  /** The update in a mount namespace ends in exit 7 naming {@code word}; status afterwards: the store as it was. */
  private void failsInMountNamespace(String tmpfsOptions, boolean readOnly, String word) throws Exception {
    Path status = dir.resolve("status.json");
    Ota.Run run = inMountNamespace(tmpfsOptions, readOnly, status);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(7);
    Sentence.check(run.errorLine(), word);
    assertRunningSlotUnchanged(Files.readString(status));
  }

  @Test
  @DisplayName("full disk")
  @Case(category = "storage", fault = "the slot store's file system (a 256 KiB tmpfs) fills up while writing", outcome = "exit 7, error: names the full disk; slot a still runs and boots")
  void fullDisk() throws Exception {
    failsInMountNamespace("size=256k", false, "space");
  }

  @Test
  @DisplayName("read-only file system")
  @Case(category = "storage", fault = "the slot store's file system is remounted read-only after init", outcome = "exit 7, error: names the read-only file system; store as it was")
  void readOnly() throws Exception {
    failsInMountNamespace("size=4m", true, "read-only");
  }

  /** ota update under strace, syncs failing with EIO: of every file, or only of {@code path}. */
  private void fsyncFailing(String path, String... names) throws Exception {
    Path slots = dir.resolve("slots");
    assertThat(Ota.run("init", "--slots", slots.toString(), "--slot-size", "1M").exitCode()).isZero();
    List<String> command = new ArrayList<>(List.of("strace", "-f", "-qq", "-o", "/dev/null"));
    if (path != null) {
      command.addAll(List.of("-P", slots.resolve(path).toString()));
    }
    command.addAll(List.of("-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:error=EIO"));
    command.addAll(Ota.command(update(slots, server.url("/fw.bin"))));
    Ota.Run run = Ota.run(command);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(7);
    Sentence.check(run.errorLine(), names);
    assertRunningSlotUnchanged(Ota.run("status", "--slots", slots.toString(), "--json").stdout());
  }

  @Test
  @DisplayName("fsync fails")
  @Case(category = "storage", fault = "every fsync/fdatasync of the update process fails with EIO (strace inject)", outcome = "exit 7, error: names the I/O error and what was being made durable; nothing activated")
  void fsyncFails() throws Exception {
    // the first sync that fails is the store directory's (an existing store is made durable before use)
    fsyncFailing(null, "input/output error", "durable");
  }

  @Test
  @DisplayName("slot fsync fails")
  @Case(category = "storage", fault = "every fdatasync of the slot file fails with EIO (strace -P slot-b.img inject)", outcome = "exit 7, error: names the I/O error and the slot; nothing activated")
  void slotSyncFails() throws Exception {
    fsyncFailing("slot-b.img", "input/output error", "slot");
  }

  @Test
  @DisplayName("SIGTERM mid-download")
  @Case(category = "resources", fault = "SIGTERM while the server stalls the body", outcome = "exit 8 after a clean abort; store as it was")
  void sigterm() throws Exception {
    Path slots = dir.resolve("slots");
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    int before = server.requests().size();
    Process process = Ota.start(Ota.command(update(slots, server.url("/stall.bin"), "--timeout", "30s")), out, err);
    server.received(before + 1).block(START); // the request is the event; START only guards against a hang
    process.destroy();
    Ota.Run run = Ota.finish(process, out, err);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(8);
    Sentence.check(run.errorLine(), "abort");
    assertRunningSlotUnchanged(Ota.run("status", "--slots", slots.toString(), "--json").stdout());
  }

  private void family(String url, int exitCode, String[] extra, String... names) throws Exception {
    Path slots = dir.resolve("slots");
    Ota.Run run = Ota.run(update(slots, url, extra));
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(exitCode);
    Sentence.check(run.errorLine(), names);
    if (Files.exists(slots)) {
      assertRunningSlotUnchanged(Ota.run("status", "--slots", slots.toString(), "--json").stdout());
    }
  }

  /** As {@link #family}, and the plain http server gets no connection. */
  private void nothingOverPlainHttp(String url, int exitCode, String word) throws Exception {
    int before = plain.connections();
    family(url, exitCode, new String[0], word);
    assertThat(plain.connections()).isEqualTo(before);
  }

  @Test
  @DisplayName("CLI: untrusted server")
  @Case(category = "trust", fault = "ota update against a server under an unknown root, with a password in --user", outcome = "exit 3; error: line without the password")
  void cliUntrusted() throws Exception {
    family(untrusted.url("/fw.bin"), 3, new String[] {"--user", "device:" + Sentence.PASSWORD}, "Unrelated Test Root");
  }

  @Test
  @DisplayName("CLI: http URL")
  @Case(category = "redirects", fault = "ota update http://...", outcome = "exit 2 (usage), nothing fetched")
  void cliHttpUrl() throws Exception {
    nothingOverPlainHttp(plain.url("/fw.bin"), 2, "https");
  }

  @Test
  @DisplayName("CLI: redirect to http")
  @Case(category = "redirects", fault = "ota update of a URL that redirects to http://", outcome = "exit 9 (policy)")
  void cliRedirectToHttp() throws Exception {
    nothingOverPlainHttp(server.url("/to-http"), 9, "http:");
  }

  @Test
  @DisplayName("CLI: 404")
  @Case(category = "protocol", fault = "ota update of a missing image", outcome = "exit 5 (server)")
  void cliNotFound() throws Exception {
    family(server.url("/missing.bin"), 5, new String[0], "404");
  }

  @Test
  @DisplayName("CLI: digest mismatch")
  @Case(category = "integrity", fault = "ota update --sha256 of other bytes", outcome = "exit 6 (integrity)")
  void cliDigest() throws Exception {
    family(server.url("/fw.bin"), 6, new String[] {"--sha256", Sha256.digest(new byte[3]).hex()}, "SHA-256");
  }

  @Test
  @DisplayName("CLI: connection refused")
  @Case(category = "protocol", fault = "ota update of a port nothing listens on", outcome = "exit 4 (network)")
  void cliRefused() throws Exception {
    family("https://localhost:" + Bench.freePort() + "/fw.bin", 4, new String[0], "connect");
  }
}
