package io.otaflux.hawkbit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.JdkProxy;
import io.otaflux.transport.JdkTls;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.Tinyproxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Flux;

/**
 * The parts of DDI a real hawkBit is hard to make do on purpose (a 429 with Retry-After, an
 * artifact on another origin), against an HTTPS server that answers what the test writes.
 */
class DdiProtocolTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final TrustAnchors ROOT = TrustAnchors.of(List.of(TestPki.shared().root().certificate()));

  @TempDir
  Path dir;

  private static Flux<byte[]> json(String status, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return RawHttpsServer.answer("HTTP/1.1 " + status + "\r\nContent-Type: application/hal+json\r\nContent-Length: "
        + b.length + "\r\nConnection: close\r\n\r\n", b);
  }

  private HawkbitClient client(int port, HttpsFirmwareSource source) {
    return builder(port, source).build();
  }

  private HawkbitClient.Builder builder(int port, HttpsFirmwareSource source) {
    FileSlotStore store = FileSlotStore.init(dir.resolve("slots"), 1 << 20);
    return HawkbitClient.builder()
        .server(URI.create("https://localhost:" + port))
        .controllerId("dev1")
        .targetToken("the-secret")
        .sslContext(JdkTls.sslContext(ROOT, List.of(), null))
        .updater(OtaUpdater.create().source(source))
        .store(store)
        .backoff(Duration.ofMillis(200), Duration.ofSeconds(2));
  }

  @Test
  void a429WaitsAtLeastItsRetryAfter() {
    try (RawHttpsServer ddi = RawHttpsServer.start(TestPki.shared().localhost(),
        (head, n) -> json("429 Too Many Requests\r\nRetry-After: 7", "{}"))) {
      HawkbitClient client = client(ddi.port(), HttpsFirmwareSource.create().trustAnchors(ROOT));
      client.start();
      try {
        HawkbitEvent.Failed failed = client.events().ofType(HawkbitEvent.Failed.class).blockFirst(WAIT);
        assertThat(failed.detail()).isEqualTo(OtaException.Detail.HTTP_STATUS);
        assertThat(failed.message()).contains("429");
        assertThat(failed.retryIn()).isGreaterThanOrEqualTo(Duration.ofSeconds(7));
        assertThat(ddi.heads()).hasSize(1);
      } finally {
        client.stop();
      }
    }
  }

  /** A DDI server offering {@code image} (SHA-256 and size as hawkBit gives them) at {@code cdnPort}'s /fw.bin. */
  private static RawHttpsServer ddiOffering(byte[] image, int cdnPort) {
    String sha = Sha256.digest(image).hex();
    return RawHttpsServer.start(TestPki.shared().localhost(), (head, n) -> {
      String base = "https://localhost:" + head.substring(head.indexOf("Host: localhost:") + 16).split("\r\n")[0]
          + "/DEFAULT/controller/v1/dev1";
      if (head.startsWith("GET /DEFAULT/controller/v1/dev1 ")) {
        return json("200 OK", "{\"config\":{\"polling\":{\"sleep\":\"00:05:00\"}},\"_links\":{\"deploymentBase\":"
            + "{\"href\":\"" + base + "/deploymentBase/9?c=1\"}}}");
      }
      if (head.startsWith("GET /DEFAULT/controller/v1/dev1/deploymentBase/9")) {
        return json("200 OK", "{\"id\":\"9\",\"deployment\":{\"download\":\"forced\",\"update\":\"forced\","
            + "\"chunks\":[{\"part\":\"os\",\"version\":\"9.0\",\"name\":\"fw\",\"artifacts\":[{\"filename\":"
            + "\"fw.bin\",\"hashes\":{\"sha256\":\"" + sha + "\"},\"size\":" + image.length + ",\"_links\":"
            + "{\"download\":{\"href\":\"" + "https://localhost:" + cdnPort + "/fw.bin\"}}}]}]}}");
      }
      return json("200 OK", "");
    });
  }

  private static RawHttpsServer cdn(byte[] image) {
    return RawHttpsServer.start(TestPki.shared().localhost(), (head, n) -> RawHttpsServer.answer("HTTP/1.1 200 OK"
        + "\r\nContent-Length: " + image.length + "\r\nConnection: close\r\n\r\n", image));
  }

  private static void awaitTrial(HawkbitClient client) {
    client.start();
    try {
      client.events().ofType(HawkbitEvent.FeedbackSent.class)
          .filter(e -> e.details().get(0).contains("trial boot choice")).blockFirst(WAIT);
    } finally {
      client.stop();
    }
  }

  @Test
  void theTokenIsNeverSentToAnArtifactOnAnotherOrigin() {
    byte[] image = new byte[20_000];
    new Random(3).nextBytes(image);
    try (RawHttpsServer cdn = cdn(image); RawHttpsServer ddi = ddiOffering(image, cdn.port())) {
      awaitTrial(client(ddi.port(), HttpsFirmwareSource.create().trustAnchors(ROOT)));
      assertThat(ddi.heads()).allMatch(h -> h.contains("Authorization: TargetToken the-secret"));
      assertThat(cdn.heads()).isNotEmpty().noneMatch(h -> h.toLowerCase(java.util.Locale.ROOT)
          .contains("authorization"));
    }
  }

  @Test
  void theDdiCallsAndTheArtifactGoThroughTheProxyWhoseCredentialsReachOnlyIt() {
    // tinyproxy with Basic authentication: a tunnel without the right credentials is refused
    byte[] image = new byte[20_000];
    new Random(4).nextBytes(image);
    try (RawHttpsServer cdn = cdn(image); RawHttpsServer ddi = ddiOffering(image, cdn.port());
        Tinyproxy proxy = Tinyproxy.start(dir, "gw", "proxy-s3cret", ddi.port(), cdn.port())) {
      String url = "http://gw:proxy-s3cret@127.0.0.1:" + proxy.port();
      JdkProxy route = JdkProxy.of(url, null);
      HawkbitClient.Builder builder = builder(ddi.port(), HttpsFirmwareSource.create().trustAnchors(ROOT).proxy(url, null))
          .proxy(route.selector(), route.credentials().orElseThrow());
      assertThat(builder.toString()).doesNotContain("proxy-s3cret");
      assertThat(route.toString()).doesNotContain("proxy-s3cret");

      awaitTrial(builder.build());

      assertThat(proxy.logOnceContains("CONNECT localhost:" + cdn.port(), WAIT))
          .contains("CONNECT localhost:" + ddi.port()).contains("CONNECT localhost:" + cdn.port());
      assertThat(ddi.heads()).isNotEmpty().noneMatch(h -> h.toLowerCase(java.util.Locale.ROOT).contains("proxy-"));
      assertThat(cdn.heads()).isNotEmpty().noneMatch(h -> h.toLowerCase(java.util.Locale.ROOT).contains("proxy-"));
    }
  }

  @Test
  void aProxyThatIsDownIsAProxyFailureOfThePoll() {
    String url = "http://127.0.0.1:" + Tinyproxy.freePort();
    HawkbitClient client = builder(Tinyproxy.freePort(), HttpsFirmwareSource.create().trustAnchors(ROOT))
        .proxy(JdkProxy.of(url, null).selector(), null).build();
    client.start();
    try {
      HawkbitEvent.Failed failed = client.events().ofType(HawkbitEvent.Failed.class).blockFirst(WAIT);
      assertThat(failed.detail()).isEqualTo(OtaException.Detail.PROXY_FAILED);
      assertThat(failed.message()).startsWith("Could not connect to the proxy 127.0.0.1:");
    } finally {
      client.stop();
    }
  }
}
