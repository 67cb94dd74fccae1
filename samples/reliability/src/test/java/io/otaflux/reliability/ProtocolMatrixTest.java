package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.fails;
import static io.otaflux.reliability.Bench.source;
import static io.otaflux.reliability.Bench.succeeds;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.FaultProxy.Fault;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** HTTP protocol faults and a hostile network: each ends in a named reason, or in a correct image. */
class ProtocolMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(300_000, 3);

  private static String ok(long length) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\nConnection: close\r\n\r\n";
  }

  private static void installed(Device device, byte[] image) {
    try {
      byte[] slot = Files.readAllBytes(device.store.slotPath(SlotId.A));
      assertThat(Sha256.digest(java.util.Arrays.copyOf(slot, image.length))).isEqualTo(Sha256.digest(image));
      assertThat(device.store.status().block(Device.WAIT).next()).isEqualTo(SlotId.A);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  @DisplayName("404 not found")
  @Case(category = "protocol", fault = "the image URL answers 404", outcome = "SERVER (5), not retried")
  void notFound() {
    TestServer server = bench.https();
    fails(bench.device(), UpdateRequest.of(server.url("/nope.bin")), 2, Reason.SERVER, "404", "URL");
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  @DisplayName("500 on every try")
  @Case(category = "protocol", fault = "the server answers 500 every time", outcome = "SERVER (5) after the retries")
  void serverError() {
    TestServer server = bench.https().route("/fw.bin", Routes.status(500, Map.of()));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.SERVER, "500");
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  @DisplayName("503 once, then the image")
  @Case(category = "protocol", fault = "503 with Retry-After: 0, then a good answer", outcome = "installed after one retry")
  void busyOnce() {
    Routes.Image good = Routes.image(image);
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> n == 0
        ? Routes.status(503, Map.of("Retry-After", "0")).handle(req, res, n) : good.handle(req, res, n));
    Device device = bench.device();
    succeeds(device, source(), UpdateRequest.of(server.url("/fw.bin")).withSha256(Sha256.digest(image)), 2);
    installed(device, image);
  }

  @Test
  @DisplayName("wrong Content-Range on resume")
  @Case(category = "protocol", fault = "connection cut; the resume answers 206 with a Content-Range that starts elsewhere",
      outcome = "SERVER (5), the bytes are not written at the wrong offset")
  void wrongContentRange() {
    Routes.Image good = Routes.image(image).cutFirstAt(100_000);
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> {
      if (n == 0) {
        return good.handle(req, res, n);
      }
      return res.status(206).header(HttpHeaderNames.CONTENT_RANGE, "bytes 0-" + (image.length - 1) + "/" + image.length)
          .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(image.length))
          .header(HttpHeaderNames.ETAG, String.valueOf(good.etag()))
          .sendByteArray(Mono.just(image));
    });
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.SERVER, "Content-Range");
  }

  @Test
  @DisplayName("200 to a range request")
  @Case(category = "protocol", fault = "connection cut; the server ignores Range and answers 200 with the whole image",
      outcome = "restarts from byte 0; installed, digest correct")
  void okToRange() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image).ignoringRange().cutFirstAt(120_000));
    Device device = bench.device();
    List<UpdateEvent> events = succeeds(device, source(),
        UpdateRequest.of(server.url("/fw.bin")).withSha256(Sha256.digest(image)), 2);
    assertThat(events).filteredOn(UpdateEvent.Progress.class::isInstance)
        .allSatisfy(p -> assertThat(((UpdateEvent.Progress) p).bytesDone()).isLessThanOrEqualTo(image.length));
    installed(device, image);
  }

  @Test
  @DisplayName("416 to a resume")
  @Case(category = "protocol", fault = "connection cut; every ranged request answers 416",
      outcome = "SERVER (5) after the retries")
  void rangeNotSatisfiable() {
    Routes.Image good = Routes.image(image).cutFirstAt(100_000);
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> n == 0 ? good.handle(req, res, n)
        : res.status(416).header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + image.length).send());
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.SERVER, "416");
  }

  @Test
  @DisplayName("premature close, no retries left")
  @Case(category = "protocol", fault = "server closes the connection at byte 100000 of 300000; retries 0",
      outcome = "NETWORK (4)")
  void prematureClose() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image).cutFirstAt(100_000));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 0, Reason.NETWORK, "lost");
  }

  @Test
  @DisplayName("Content-Length larger than the body")
  @Case(category = "protocol", fault = "Content-Length says 5000 bytes more than are sent before the close",
      outcome = "NETWORK (4) after the retries")
  void lengthLargerThanBody() {
    RawHttpsServer raw = bench.raw((head, n) -> RawHttpsServer.answer(ok(image.length + 5000), image));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")), 1, Reason.NETWORK, "lost");
  }

  @Test
  @DisplayName("Content-Length smaller than the body")
  @Case(category = "protocol", fault = "Content-Length 5000 bytes short of the body sent; SHA-256 expected",
      outcome = "INTEGRITY (6)")
  void lengthSmallerThanBody() {
    RawHttpsServer raw = bench.raw((head, n) -> RawHttpsServer.answer(ok(image.length - 5000), image));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")).withSha256(Sha256.digest(image)), 1, Reason.INTEGRITY,
        "SHA-256");
  }

  @Test
  @DisplayName("endless body")
  @Case(category = "protocol", fault = "200 without Content-Length, bytes forever", outcome = "STORAGE (7) at the slot's end")
  void endlessBody() {
    byte[] chunk = Bench.image(16 * 1024, 4);
    RawHttpsServer raw = bench.raw((head, n) -> Flux.concat(
        Mono.just("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
        Flux.<byte[]>generate(sink -> sink.next(chunk))));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")), 1, Reason.STORAGE, "larger than");
  }

  @Test
  @DisplayName("endless body, size expected")
  @Case(category = "protocol", fault = "200 without Content-Length, bytes forever; --size given",
      outcome = "INTEGRITY (6) past the expected size")
  void endlessBodyWithSize() {
    byte[] chunk = Bench.image(16 * 1024, 4);
    RawHttpsServer raw = bench.raw((head, n) -> Flux.concat(
        Mono.just("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
        Flux.<byte[]>generate(sink -> sink.next(chunk))));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")).withSize(image.length), 1, Reason.INTEGRITY, "size");
  }

  @Test
  @DisplayName("huge headers")
  @Case(category = "protocol", fault = "a 200 with a 64 KiB header line", outcome = "SERVER (5)")
  void hugeHeaders() {
    String big = "X-Padding: " + "a".repeat(64 * 1024) + "\r\n";
    RawHttpsServer raw = bench.raw((head, n) -> RawHttpsServer.answer(
        "HTTP/1.1 200 OK\r\n" + big + "Content-Length: " + image.length + "\r\n\r\n", image));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")), 1, Reason.SERVER, "not valid HTTP", "header");
  }

  @Test
  @DisplayName("slow headers")
  @Case(category = "protocol", fault = "the status line, then one header byte every 100 ms, forever (slowloris)",
      outcome = "NETWORK (4) within a bounded time")
  void slowHeaders() {
    RawHttpsServer raw = bench.raw((head, n) -> Flux.concat(
        Mono.just("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
        Flux.interval(Duration.ofMillis(100)).map(i -> new byte[] {'a'})));
    long start = System.nanoTime();
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")), 0, Reason.NETWORK, "answer");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  @DisplayName("headers never come")
  @Case(category = "protocol", fault = "the server reads the request and never answers", outcome = "NETWORK (4) after the idle timeout")
  void noAnswer() {
    TestServer server = bench.https().route("/fw.bin", Routes.neverAnswer());
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 0, Reason.NETWORK, "answer");
  }

  @Test
  @DisplayName("not HTTP at all")
  @Case(category = "protocol", fault = "the server answers with text that is not HTTP", outcome = "SERVER (5)")
  void notHttp() {
    RawHttpsServer raw = bench.raw((head, n) -> Mono.just(
        "SSH-2.0-OpenSSH_9.2\r\nProtocol mismatch.\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    fails(bench.device(), UpdateRequest.of(raw.url("/fw.bin")), 1, Reason.SERVER, "not valid HTTP");
  }

  @Test
  @DisplayName("stall mid-body")
  @Case(category = "protocol", fault = "the server stops sending at byte 100000, connection open; retries 0",
      outcome = "NETWORK (4) after the idle timeout")
  void stallMidBody() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image).stallFirstAt(100_000));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 0, Reason.NETWORK, "400 ms");
  }

  @Test
  @DisplayName("proxy cuts the TLS stream")
  @Case(category = "protocol", fault = "TCP proxy closes the connection after 200000 bytes, first connection only",
      outcome = "resumed with Range; installed, digest correct")
  void proxyCut() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Cut(200_000), 1);
    Device device = bench.device();
    List<UpdateEvent> events = succeeds(device, source(),
        UpdateRequest.of(proxy.url("/fw.bin")).withSha256(Sha256.digest(image)), 2);
    assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOf(UpdateEvent.Retrying.class));
    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(1).header("Range")).startsWith("bytes=");
    installed(device, image);
  }

  @Test
  @DisplayName("proxy resets the connection")
  @Case(category = "protocol", fault = "TCP proxy sends RST after 60000 bytes, every connection; 1 retry",
      outcome = "installed: every reset keeps the bytes it delivered and the next try resumes there")
  void proxyReset() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Reset(60_000), Integer.MAX_VALUE);
    Device device = bench.device();
    Bench.succeeds(device, Bench.source(), UpdateRequest.of(proxy.url("/fw.bin")), 1);
    installed(device, image);
    assertThat(proxy.connections()).as("one try per 60000 bytes").isGreaterThanOrEqualTo(6);
  }

  @Test
  @DisplayName("proxy stalls")
  @Case(category = "protocol", fault = "TCP proxy stops forwarding after 60000 bytes, connections open, every"
      + " connection; 1 retry", outcome = "installed: each stall ends after the idle timeout and the next try resumes"
      + " where it stalled")
  void proxyStall() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Stall(60_000), Integer.MAX_VALUE);
    Device device = bench.device();
    Bench.succeeds(device, Bench.source(), UpdateRequest.of(proxy.url("/fw.bin")), 1);
    installed(device, image);
    assertThat(proxy.connections()).as("one try per 60000 bytes").isGreaterThanOrEqualTo(6);
  }

  @Test
  @DisplayName("proxy drips")
  @Case(category = "protocol", fault = "TCP proxy forwards 4 KiB every 10 ms (slower than the server, faster than the idle timeout)",
      outcome = "installed, digest correct")
  void proxyDrip() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Drip(4096, Duration.ofMillis(10)), Integer.MAX_VALUE);
    Device device = bench.device();
    succeeds(device, source(), UpdateRequest.of(proxy.url("/fw.bin")).withSha256(Sha256.digest(image)), 0);
    installed(device, image);
  }

  @Test
  @DisplayName("proxy flips a bit")
  @Case(category = "protocol", fault = "TCP proxy flips one bit at byte 50000 of the TLS stream; retries 0",
      outcome = "NETWORK (4): TLS refuses the record, no altered byte is written")
  void proxyFlip() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Flip(50_000), 1);
    fails(bench.device(), UpdateRequest.of(proxy.url("/fw.bin")), 0, Reason.NETWORK, "connection");
  }
}
