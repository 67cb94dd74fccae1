package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.PKI;
import static io.otaflux.reliability.Bench.fails;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.netty.buffer.Unpooled;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.OldTlsServer;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Mono;

/**
 * The stream's integrity and the transport's bounds (issue 14 items 4, 5, 6, 7, 10, 15): a
 * server whose file changes under a resume, a link that breaks every megabyte, a server that
 * asks to be left alone forever, silent and outdated TLS peers, signed URLs.
 */
class StreamSafetyMatrixTest {

  private static final int MIB = 1024 * 1024;

  @RegisterExtension
  final Bench bench = new Bench();

  /** A store with slots large enough for the multi-megabyte images of these cases. */
  private FileSlotStore bigStore() {
    return FileSlotStore.init(bench.tmp().resolve("big-" + System.nanoTime()), 16L * MIB);
  }

  /** The bench's source with an idle timeout a loaded machine does not trip on megabytes. */
  private static HttpsFirmwareSource patient() {
    return Bench.source().idleTimeout(Duration.ofSeconds(5));
  }

  /** Updates a fresh big store from {@code url} (3 retries, a patient source): activated, and slot b holds {@code image}. */
  private void installsInABigStore(String url, byte[] image) throws IOException {
    FileSlotStore store = bigStore();
    List<UpdateEvent> events = OtaUpdater.create().source(patient()).store(store)
        .retry(3, Duration.ofMillis(10), Duration.ofMillis(40))
        .update(UpdateRequest.of(url)).collectList().block(Duration.ofSeconds(60));
    assertThat(events).last().isInstanceOf(UpdateEvent.Activated.class);
    holds(store, image);
  }

  private static void holds(FileSlotStore store, byte[] image) throws IOException {
    byte[] slot = Files.readAllBytes(store.slotPath(SlotId.B));
    assertThat(Sha256.digest(Arrays.copyOf(slot, image.length))).as("slot b holds the image byte-exact")
        .isEqualTo(Sha256.digest(image));
    assertThat(store.status().block(Device.WAIT).slot(SlotId.B).sha256()).isEqualTo(Sha256.digest(image));
  }

  /**
   * 200 with ETag "v1" and image {@code first} cut at {@code cut}; every later request gets
   * {@code second}: a 206 with {@code etag} and {@code total} when it asks for a range (whatever
   * its If-Range), the whole of it otherwise.
   */
  static TestServer.Route replacedBehindARange(byte[] first, int cut, byte[] second, String etag, long total) {
    Routes.Image original = Routes.image(first).etag("\"v1\"").cutFirstAt(cut);
    return (req, res, n) -> {
      if (n == 0) {
        return original.handle(req, res, n);
      }
      String range = req.requestHeaders().get("Range");
      res.header("ETag", etag).header("Accept-Ranges", "bytes");
      if (range == null) {
        return res.status(200).header("Content-Length", Integer.toString(second.length))
            .send(Mono.just(Unpooled.wrappedBuffer(second)));
      }
      int from = Integer.parseInt(range.substring(6, range.length() - 1));
      return res.status(206).header("Content-Range", "bytes " + from + "-" + (total - 1) + "/" + total)
          .header("Content-Length", Integer.toString(second.length - from))
          .send(Mono.just(Unpooled.wrappedBuffer(second, from, second.length - from)));
    };
  }

  @Test
  @DisplayName("image changed behind a 206")
  @Case(category = "integrity", fault = "200 with ETag \"v1\" cut after 9 MiB of 10 MiB; the resume is answered 206 with ETag \"v2\" and another image's bytes; no digest given", outcome = "never appended: restarts from byte 0; the new image installed byte-exact, never a mix")
  void changedBehindAPartialAnswer() throws IOException {
    byte[] v1 = Bench.image(10 * MIB, 41);
    byte[] v2 = Bench.image(10 * MIB, 42);
    TestServer server = bench.https().route("/fw.bin", replacedBehindARange(v1, 9 * MIB, v2, "\"v2\"", v2.length));
    installsInABigStore(server.url("/fw.bin"), v2);
    List<TestServer.Recorded> requests = server.requests();
    assertThat(requests).hasSizeGreaterThanOrEqualTo(3);
    assertThat(requests.get(1).header("If-Range")).isEqualTo("\"v1\"");
    assertThat(requests.get(1).header("Range")).isNotNull();
    assertThat(requests.get(2).header("Range")).as("the whole image asked for again").isNull();
  }

  @Test
  @DisplayName("resumed answer of another size")
  @Case(category = "integrity", fault = "connection cut after 1 MiB; the resume is answered 206 with the same ETag but a Content-Range total one byte larger", outcome = "never appended: restarts from byte 0; the answered image installed whole")
  void resumeOfAnotherSize() throws IOException {
    byte[] v1 = Bench.image(2 * MIB, 43);
    byte[] grown = Bench.image(2 * MIB + 1, 44);
    TestServer server = bench.https().route("/fw.bin", replacedBehindARange(v1, MIB, grown, "\"v1\"", grown.length));
    installsInABigStore(server.url("/fw.bin"), grown);
    assertThat(server.requests()).extracting(r -> r.header("Range") == null).startsWith(true, false, true);
  }

  @Test
  @DisplayName("link breaking every MiB")
  @Case(category = "protocol", fault = "TCP proxy cuts every connection after 1 MiB; a 6 MiB image, 3 retries, default sync interval", outcome = "installed: every break syncs and resumes there; at most 4 % sent twice")
  void linkBreakingEveryMegabyte() throws IOException {
    byte[] image = Bench.image(6 * MIB, 45);
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new FaultProxy.Fault.Cut(MIB), Integer.MAX_VALUE);
    installsInABigStore(proxy.url("/fw.bin"), image);
    assertThat(proxy.connections()).as("one connection per MiB").isBetween(7, 8);
    assertThat(proxy.bytesToClients()).as("bytes sent, TLS and handshakes included")
        .isLessThanOrEqualTo(image.length + image.length / 25);
  }

  @Test
  @DisplayName("Retry-After beyond any clock")
  @Case(category = "protocol", fault = "503 with Retry-After: 9223372036854775807, then the image", outcome = "waits the retry policy's longest backoff (the Retrying event says it was capped); installed")
  void retryAfterBeyondAnyClock() {
    Routes.Image good = Routes.image(Bench.image(200_000, 46));
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> n == 0
        ? Routes.status(503, Map.of("Retry-After", "9223372036854775807")).handle(req, res, n)
        : good.handle(req, res, n));
    Device device = bench.device();
    List<UpdateEvent> events = Bench.succeeds(device, Bench.source(), UpdateRequest.of(server.url("/fw.bin")), 2);
    assertThat(events).filteredOn(e -> e instanceof UpdateEvent.Retrying).singleElement().satisfies(e -> {
      UpdateEvent.Retrying r = (UpdateEvent.Retrying) e;
      assertThat(r.delayCapped()).isTrue();
      assertThat(r.delay()).isEqualTo(Duration.ofMillis(40));
      assertThat(r.cause().httpStatus()).hasValue(503);
      Sentence.check(r.cause().getMessage(), "503", "asked to wait", "longest backoff");
    });
  }

  /** The update of {@code url} (2 retries allowed) fails with TRUST, TLS_VERSION, naming {@code names}. */
  private void refusedAsTooOld(String url, String... names) {
    OtaException e = fails(bench.device(), UpdateRequest.of(url), 2, Reason.TRUST, names);
    assertThat(e.detail()).isEqualTo(OtaException.Detail.TLS_VERSION);
  }

  @Test
  @DisplayName("TLS 1.1 only server (OpenSSL)")
  @Case(category = "trust", fault = "OpenSSL s_server -tls1_1 answers the TLS 1.3/1.2 hello with a protocol_version alert", outcome = "TRUST (3), TLS_VERSION, naming TLS 1.2; not retried")
  void tls11OnlyOpenSsl() {
    refusedAsTooOld(bench.add(OldTlsServer.start(PKI.localhost())).url("/fw.bin"), "TLS 1.2");
  }

  @Test
  @DisplayName("TLS 1.1 ServerHello")
  @Case(category = "trust", fault = "a server answers the hello with a ServerHello choosing TLS 1.1", outcome = "TRUST (3), TLS_VERSION, naming TLS 1.1 and TLS 1.2")
  void tls11ServerHello() {
    refusedAsTooOld(bench.add(TestServer.answeringWithTls11ServerHello()).url("/fw.bin"), "TLS 1.1", "TLS 1.2");
  }

  @Test
  @DisplayName("handshake never answered, only an idle timeout set")
  @Case(category = "trust", fault = "TCP peer accepts and never speaks TLS; idle timeout 400 ms, no handshake timeout of its own", outcome = "NETWORK (4), TIMEOUT, after the idle timeout (not a 30 s default)")
  void silentPeerBoundedByTheIdleTimeout() {
    TestServer silent = bench.add(TestServer.silent());
    HttpsFirmwareSource source = HttpsFirmwareSource.create()
        .trustAnchors(io.otaflux.transport.TrustAnchors.of(List.of(PKI.root().certificate())))
        .idleTimeout(Bench.IDLE);
    OtaException e = fails(bench.device(), source, UpdateRequest.of(silent.url("/fw.bin")), 1, Reason.NETWORK,
        "handshake", "400 ms");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.TIMEOUT);
  }

  @Test
  @DisplayName("signed URL with user-info")
  @Case(category = "redirects", fault = "https://u:p@host/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1", outcome = "installed; the request line is the URL byte for byte without the user-info")
  void signedUrlWithUserInfo() throws Exception {
    byte[] image = Bench.image(100_000, 47);
    RawHttpsServer server = bench.raw((head, n) -> RawHttpsServer.answer("HTTP/1.1 200 OK\r\nContent-Length: "
        + image.length + "\r\n\r\n", image));
    String target = "/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1";
    Bench.succeeds(bench.device(), Bench.source(),
        UpdateRequest.of("https://u:p@localhost:" + server.port() + target), 0);
    String head = server.heads().get(0);
    assertThat(head.substring(0, head.indexOf("\r\n"))).isEqualTo("GET " + target + " HTTP/1.1");
  }

}
