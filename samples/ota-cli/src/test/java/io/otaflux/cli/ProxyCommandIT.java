package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.otaflux.transport.testing.Tinyproxy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code ota update / check --proxy} and the proxy environment, as processes, through a real tinyproxy. */
class ProxyCommandIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static final byte[] IMAGE = DemoServer.random(3 * 1024 * 1024 + 321, 15);

  @RegisterExtension
  static final DemoServer DEMO = new DemoServer("firmware-3.bin", IMAGE);

  @TempDir
  Path dir;

  @BeforeAll
  static void publish() throws Exception {
    DEMO.signedManifest("firmware-3.bin", IMAGE, "3.0.0", DEMO.keys(), "m-3.0.0.json");
  }

  private int updates;

  /** One update into a fresh slot store (a second update would meet the trial of the first: exit 9). */
  private OtaProcess.Run update(Map<String, String> env, String... extra) throws Exception {
    updates++;
    List<String> args = DEMO.update(DEMO.imageUrl(), dir.resolve("slots-" + updates), "--retries", "0");
    args.addAll(List.of(extra));
    return OtaProcess.runWith(env, args.toArray(String[]::new));
  }

  private byte[] slotB() throws Exception {
    try (java.io.InputStream in = Files.newInputStream(dir.resolve("slots-" + updates).resolve("slot-b.img"))) {
      return in.readNBytes(IMAGE.length);
    }
  }

  private static String tunnel() {
    return "CONNECT localhost:" + DEMO.imageUrl().getPort();
  }

  @Test
  void updateThroughProxyInstallsTheImageByteExactThroughTheTunnel() throws Exception {
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, DEMO.imageUrl().getPort())) {
      long direct = System.nanoTime();
      OtaProcess.Run plain = update(Map.of());
      direct = System.nanoTime() - direct;
      assertThat(plain.exitCode()).as(plain.all()).isZero();
      assertThat(proxy.log()).doesNotContain(tunnel());

      long tunnelled = System.nanoTime();
      OtaProcess.Run run = update(Map.of(), "--proxy", proxy.url());
      tunnelled = System.nanoTime() - tunnelled;
      assertThat(run.exitCode()).as(run.all()).isZero();
      assertThat(slotB()).isEqualTo(IMAGE);
      assertThat(proxy.logOnceContains(tunnel(), WAIT)).contains(tunnel());
      System.out.printf("ota update of a 3 MiB image: direct %d ms, through tinyproxy %d ms%n", direct / 1_000_000,
          tunnelled / 1_000_000);
    }
  }

  @Test
  void httpsProxyFromTheEnvironmentIsUsedAndNoProxyGoesAroundIt() throws Exception {
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, DEMO.imageUrl().getPort())) {
      OtaProcess.Run run = update(Map.of("https_proxy", proxy.url()));
      assertThat(run.exitCode()).as(run.all()).isZero();
      assertThat(slotB()).isEqualTo(IMAGE);
      assertThat(proxy.logOnceContains(tunnel(), WAIT)).contains(tunnel());
    }
    // the proxy named now is down: only going around it can succeed
    OtaProcess.Run bypass = update(Map.of("HTTPS_PROXY", "http://127.0.0.1:" + Tinyproxy.freePort(),
        "NO_PROXY", "example.org,LocalHost"));
    assertThat(bypass.exitCode()).as(bypass.all()).isZero();
    // as curl: no_proxy applies to a proxy given on the command line too
    OtaProcess.Run flagBypassed = update(Map.of("no_proxy", "localhost"), "--proxy",
        "http://127.0.0.1:" + Tinyproxy.freePort());
    assertThat(flagBypassed.exitCode()).as(flagBypassed.all()).isZero();
  }

  @Test
  void checkThroughProxyReadsTheManifestThroughTheTunnel() throws Exception {
    assertThat(OtaProcess.run("init", "--slots", dir.resolve("slots").toString(), "--slot-size", "4M").exitCode())
        .isZero();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, DEMO.imageUrl().getPort())) {
      OtaProcess.Run check = OtaProcess.runWith(Map.of(), "check", "--manifest", DEMO.server().uri("m-3.0.0.json").toString(),
          "--slots", dir.resolve("slots").toString(), "--root-cert", DEMO.rootPem().toString(), "--trusted-key",
          DEMO.keys().resolve(KeygenCommand.PUBLIC).toString(), "--proxy", proxy.url());
      assertThat(check.exitCode()).as(check.all()).isZero();
      assertThat(check.stdout().strip()).isEqualTo("3.0.0");
      assertThat(proxy.logOnceContains(tunnel(), WAIT)).contains(tunnel());
    }
  }

  @Test
  void aWrongPinThroughTheProxyIsExit3() throws Exception {
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, DEMO.imageUrl().getPort())) {
      OtaProcess.Run run = update(Map.of(), "--proxy", proxy.url(), "--pin",
          "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
      assertThat(run.exitCode()).as(run.all()).isEqualTo(3);
      assertThat(run.errorLine()).contains("None of the pinned keys");
      assertThat(proxy.logOnceContains(tunnel(), WAIT)).contains(tunnel());
    }
  }

  @Test
  void aProxyRefusingTheTunnelIsExit4WithTheProxysSentence() throws Exception {
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, DEMO.imageUrl().getPort() == 1 ? 2 : 1)) {
      OtaProcess.Run run = update(Map.of(), "--proxy", proxy.url(), "--json");
      assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
      assertThat(run.errorLine()).startsWith("error: The proxy 127.0.0.1:" + proxy.port() + " refused the tunnel to"
          + " localhost:" + DEMO.imageUrl().getPort()).contains("403");
      assertThat(run.stdout()).contains("\"proxy_failed\"");
    }
  }

  @Test
  void aProxyThatIsDownIsExit4NamingTheProxy() throws Exception {
    int down = Tinyproxy.freePort();
    OtaProcess.Run run = update(Map.of(), "--proxy", "http://127.0.0.1:" + down);
    assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
    assertThat(run.errorLine()).startsWith("error: Could not connect to the proxy 127.0.0.1:" + down);
  }

  @Test
  void proxyCredentialsWorkAndAreNeverPrinted() throws Exception {
    try (Tinyproxy proxy = Tinyproxy.start(dir, "gw", "pr0xy-s3cret", DEMO.imageUrl().getPort())) {
      OtaProcess.Run run = update(Map.of(), "--proxy", "http://gw:pr0xy-s3cret@127.0.0.1:" + proxy.port(), "--json");
      assertThat(run.exitCode()).as(run.all()).isZero();
      assertThat(run.all()).doesNotContain("pr0xy-s3cret");
      assertThat(slotB()).isEqualTo(IMAGE);

      OtaProcess.Run wrong = update(Map.of("https_proxy", "http://gw:wr0ng-s3cret@127.0.0.1:" + proxy.port()), "--json");
      assertThat(wrong.exitCode()).as(wrong.all()).isEqualTo(4);
      // tinyproxy answers wrong credentials with 401 (missing ones with 407)
      assertThat(wrong.errorLine()).contains("refused the tunnel").contains("401");
      assertThat(wrong.all()).doesNotContain("wr0ng-s3cret");
    }
  }
}
