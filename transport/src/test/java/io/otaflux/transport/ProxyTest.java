package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;
import io.otaflux.transport.testing.Tinyproxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import reactor.test.StepVerifier;
import reactor.util.context.Context;

/** HTTPS through a real HTTP CONNECT proxy (Debian's tinyproxy), and the user's own HttpClient settings. */
@ExtendWith(NoLeaks.class)
class ProxyTest {

  @RegisterExtension
  final Servers servers = new Servers();

  @TempDir
  Path dir;

  private final byte[] image = Servers.image(300_000);

  private TestServer serving() {
    return servers.https().route("/fw.bin", Routes.image(image));
  }

  private static byte[] fetch(HttpsFirmwareSource source, String url) {
    ImageDownload download = source.open(UpdateRequest.of(url), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download).isNotNull();
    return FirmwareBytes.readAll(download);
  }

  private static OtaException failure(HttpsFirmwareSource source, UpdateRequest request, Reason reason) {
    AtomicReference<OtaException> failure = new AtomicReference<>();
    StepVerifier.create(source.open(request, ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure.set(otaFailure(e, reason)))
        .verify(TIMEOUT);
    return failure.get();
  }

  @Test
  void downloadsByteExactThroughTheProxyAndTheProxyLogsTheTunnel() {
    TestServer server = serving();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port())) {
      long direct = System.nanoTime();
      assertThat(fetch(Servers.trustingRoot(), server.url("/fw.bin"))).isEqualTo(image);
      direct = System.nanoTime() - direct;
      long tunnelled = System.nanoTime();
      assertThat(fetch(Servers.trustingRoot().proxy(proxy.url(), null), server.url("/fw.bin"))).isEqualTo(image);
      tunnelled = System.nanoTime() - tunnelled;
      assertThat(proxy.logOnceContains("CONNECT localhost:" + server.port(), TIMEOUT))
          .contains("CONNECT localhost:" + server.port());
      System.out.printf("one 300 kB image: direct %.1f ms, through tinyproxy %.1f ms%n", direct / 1e6,
          tunnelled / 1e6);
    }
  }

  @Test
  void honoursHttpsProxyFromTheEnvironment() {
    TestServer server = serving();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port())) {
      HttpsFirmwareSource source = Servers.trustingRoot().proxyFrom(Map.of("HTTPS_PROXY", proxy.url()));
      assertThat(fetch(source, server.url("/fw.bin"))).isEqualTo(image);
      assertThat(proxy.logOnceContains("CONNECT localhost:" + server.port(), TIMEOUT))
          .contains("CONNECT localhost:" + server.port());
    }
  }

  @Test
  void noProxyFromTheEnvironmentGoesAroundTheProxy() {
    TestServer server = serving();
    // the proxy is down: only a connection around it can succeed
    HttpsFirmwareSource source = Servers.trustingRoot().proxyFrom(Map.of(
        "https_proxy", "http://127.0.0.1:" + Tinyproxy.freePort(), "no_proxy", "example.org, .LOCALHOST"));
    assertThat(fetch(source, server.url("/fw.bin"))).isEqualTo(image);
  }

  @Test
  void aWrongPinThroughTheProxyIsStillATrustFailure() {
    TestServer server = serving();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port())) {
      HttpsFirmwareSource source = Servers.trustingRoot().pin(SpkiPin.of(PKI.unrelatedRoot().certificate()))
          .proxy(proxy.url(), null);
      OtaException e = failure(source, UpdateRequest.of(server.url("/fw.bin")), Reason.TRUST);
      assertThat(e.getMessage()).contains("None of the pinned keys");
      assertThat(proxy.logOnceContains("CONNECT localhost:" + server.port(), TIMEOUT))
          .as("the handshake ran through the tunnel").contains("CONNECT localhost:" + server.port());
      assertThat(server.requests()).isEmpty();
    }
  }

  @Test
  void anUntrustedChainThroughTheProxyIsATrustFailure() {
    TestServer server = servers.https(PKI.unrelatedLocalhost()).route("/fw.bin", Routes.image(image));
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port())) {
      failure(Servers.trustingRoot().proxy(proxy.url(), null), UpdateRequest.of(server.url("/fw.bin")), Reason.TRUST);
      assertThat(server.requests()).isEmpty();
    }
  }

  @Test
  void aProxyRefusingTheTunnelIsProxyFailedWithItsOwnSentence() {
    TestServer server = serving();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port() == 1 ? 2 : 1)) {
      OtaException e = failure(Servers.trustingRoot().proxy(proxy.url(), null), UpdateRequest.of(server.url("/fw.bin")),
          Reason.NETWORK);
      assertThat(e.detail()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(e.isTransient()).isFalse();
      assertThat(e.getMessage()).startsWith("The proxy 127.0.0.1:" + proxy.port() + " refused the tunnel to localhost:"
          + server.port()).contains("403").contains("allows CONNECT to port " + server.port());
      assertThat(proxy.logOnceContains("Refused CONNECT", TIMEOUT)).contains("Refused CONNECT method on port "
          + server.port());
    }
  }

  @Test
  void aProxyThatIsDownIsProxyFailedNamingTheProxy() {
    TestServer server = serving();
    int down = Tinyproxy.freePort();
    OtaException e = failure(Servers.trustingRoot().proxy("http://127.0.0.1:" + down, null),
        UpdateRequest.of(server.url("/fw.bin")), Reason.NETWORK);
    assertThat(e.detail()).isEqualTo(Detail.PROXY_FAILED);
    assertThat(e.isTransient()).isTrue();
    assertThat(e.getMessage()).startsWith("Could not connect to the proxy 127.0.0.1:" + down);
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void proxyCredentialsOpenTheTunnelAndAreNeverShown() {
    TestServer server = serving();
    try (Tinyproxy proxy = Tinyproxy.start(dir, "gw", "pr0xy-s3cret", server.port())) {
      String withCredentials = "http://gw:pr0xy-s3cret@127.0.0.1:" + proxy.port();
      HttpsFirmwareSource source = Servers.trustingRoot().proxy(withCredentials, null);
      assertThat(fetch(source, server.url("/fw.bin"))).isEqualTo(image);
      assertThat(source.toString()).doesNotContain("pr0xy-s3cret").contains("with credentials");

      OtaException withoutThem = failure(Servers.trustingRoot().proxy(proxy.url(), null),
          UpdateRequest.of(server.url("/fw.bin")), Reason.NETWORK);
      assertThat(withoutThem.detail()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(withoutThem.getMessage()).contains("refused the tunnel").contains("407");

      OtaException wrong = failure(Servers.trustingRoot().proxy("http://gw:wr0ng-s3cret@127.0.0.1:" + proxy.port(), null),
          UpdateRequest.of(server.url("/fw.bin")), Reason.NETWORK);
      assertThat(wrong.detail()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(wrong.getMessage()).doesNotContain("wr0ng-s3cret").doesNotContain("gw:");
      assertThat(server.requests()).hasSize(1);
    }
  }

  @Test
  void aRedirectThroughTheProxyKeepsTheRules() {
    TestServer mirror = servers.https().route("/files/fw.bin", Routes.image(image));
    TestServer plain = servers.plainHttp().route("/fw.bin", Routes.image(image));
    TestServer front = servers.https()
        .route("/fw.bin", Routes.redirect(302, mirror.url("/files/fw.bin")))
        .route("/plain", Routes.redirect(302, plain.url("/fw.bin")));
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, front.port(), mirror.port(), plain.port())) {
      HttpsFirmwareSource source = Servers.trustingRoot().proxy(proxy.url(), null);
      ImageDownload download = source.open(UpdateRequest.of(front.url("/fw.bin"))
          .withCredentials(Credentials.bearer("origin-only")), ResumeFrom.start()).block(TIMEOUT);
      assertThat(download).isNotNull();
      assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
      assertThat(front.requests().get(0).header("Authorization")).isEqualTo("Bearer origin-only");
      assertThat(mirror.requests().get(0).header("Authorization")).as("credentials stay with the origin").isNull();

      failure(source, UpdateRequest.of(front.url("/plain")), Reason.POLICY);
      assertThat(plain.requests()).isEmpty();
    }
  }

  @Test
  void theUsersHttpClientSettingsApplyWhileTrustStillHolds() {
    TestServer server = serving();
    HttpsFirmwareSource source = Servers.trustingRoot()
        .httpClient(client -> client.headers(h -> h.set("X-Fleet", "north-7")));
    assertThat(fetch(source, server.url("/fw.bin"))).isEqualTo(image);
    assertThat(server.requests().get(0).header("X-Fleet")).isEqualTo("north-7");

    TestServer untrusted = servers.https(PKI.unrelatedLocalhost()).route("/fw.bin", Routes.image(image));
    failure(source, UpdateRequest.of(untrusted.url("/fw.bin")), Reason.TRUST);
    failure(source.pin(SpkiPin.of(PKI.unrelatedRoot().certificate())), UpdateRequest.of(server.url("/fw.bin")),
        Reason.TRUST);
    assertThat(untrusted.requests()).isEmpty();
  }

  @Test
  void theSubscribersContextReachesTheHttpClientHooks() {
    TestServer server = serving();
    AtomicReference<Object> seen = new AtomicReference<>("nothing");
    HttpsFirmwareSource source = Servers.trustingRoot()
        .httpClient(client -> client.doOnRequest((request, connection) ->
            seen.set(request.currentContextView().getOrDefault("trace", "absent"))));
    ImageDownload download = source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start())
        .contextWrite(Context.of("trace", "t-42"))
        .block(TIMEOUT);
    assertThat(download).isNotNull();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(seen.get()).isEqualTo("t-42");
  }

  /** A proxy on a raw socket that reads one CONNECT, answers {@code answer} (or nothing) and hangs up. */
  private static java.net.ServerSocket hangingUpProxy(String answer) throws java.io.IOException {
    java.net.ServerSocket socket = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
    Thread thread = new Thread(() -> {
      try (java.net.Socket client = socket.accept()) {
        java.io.InputStream in = client.getInputStream();
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        while (matched < 4) {
          int b = in.read();
          if (b < 0) {
            break;
          }
          matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        client.getOutputStream().write(answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
      } catch (java.io.IOException ignored) {
        // the test reads the outcome from the client's side
      }
    }, "hanging-up-proxy");
    thread.setDaemon(true);
    thread.start();
    return socket;
  }

  @Test
  void aTunnelClosedDuringTheHandshakeIsProxyFailedWithItsOwnSentence() {
    TestServer origin = servers.hangingUp();
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, origin.port())) {
      OtaException e = failure(Servers.trustingRoot().proxy(proxy.url(), null), UpdateRequest.of(origin.url("/fw.bin")
          .replace("http://", "https://")), Reason.NETWORK);
      assertThat(e.detail()).as(e.getMessage()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(e.isTransient()).isTrue();
      assertThat(e.getMessage()).startsWith("The tunnel through the proxy 127.0.0.1:" + proxy.port() + " to localhost:"
          + origin.port() + " was closed during the TLS handshake");
      assertThat(proxy.logOnceContains("CONNECT localhost:" + origin.port(), TIMEOUT))
          .contains("CONNECT localhost:" + origin.port());
    }
  }

  @Test
  void aProxyThatAcceptsTheTunnelAndHangsUpIsProxyFailedWithinTheConnectTimeout() throws Exception {
    TestServer server = serving();
    try (java.net.ServerSocket proxy = hangingUpProxy("HTTP/1.1 200 Connection established\r\n\r\n")) {
      // Netty's proxy handler notices no close here: its own connect timeout (ours) bounds the wait
      OtaException e = failure(Servers.trustingRoot().connectTimeout(java.time.Duration.ofSeconds(2))
          .proxy("http://127.0.0.1:" + proxy.getLocalPort(), null), UpdateRequest.of(server.url("/fw.bin")),
          Reason.NETWORK);
      assertThat(e.detail()).as(e.getMessage()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(e.getMessage()).startsWith("The proxy 127.0.0.1:" + proxy.getLocalPort() + " did not open the tunnel"
          + " to localhost:" + server.port());
      assertThat(server.requests()).isEmpty();
    }
  }

  @Test
  void aProxyThatHangsUpBeforeAnsweringConnectIsProxyFailed() throws Exception {
    TestServer server = serving();
    try (java.net.ServerSocket proxy = hangingUpProxy("")) {
      OtaException e = failure(Servers.trustingRoot().proxy("http://127.0.0.1:" + proxy.getLocalPort(), null),
          UpdateRequest.of(server.url("/fw.bin")), Reason.NETWORK);
      assertThat(e.detail()).as(e.getMessage()).isEqualTo(Detail.PROXY_FAILED);
      assertThat(e.getMessage()).startsWith("The proxy 127.0.0.1:" + proxy.getLocalPort() + " did not open the tunnel"
          + " to localhost:" + server.port());
      assertThat(e.isTransient()).isTrue();
    }
  }

  @Test
  void getCertReadsTheChainThroughTheProxy() {
    TestServer server = servers.https(PKI.localhostWithRoot()).route("/fw.bin", Routes.image(image));
    try (Tinyproxy proxy = Tinyproxy.start(dir, null, null, server.port())) {
      FetchedCertificate fetched = CertificateFetcher.create().proxy(proxy.url(), null).fetch(server.url("/fw.bin"))
          .block(TIMEOUT);
      assertThat(fetched).isNotNull();
      assertThat(fetched.anchor()).isEqualTo(PKI.root().certificate());
      assertThat(proxy.logOnceContains("CONNECT localhost:" + server.port(), TIMEOUT))
          .contains("CONNECT localhost:" + server.port());
    }
    int down = Tinyproxy.freePort();
    StepVerifier.create(CertificateFetcher.create().proxy("http://127.0.0.1:" + down, null).fetch(server.url("/fw.bin")))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.NETWORK).detail()).isEqualTo(Detail.PROXY_FAILED))
        .verify(TIMEOUT);
  }
}
