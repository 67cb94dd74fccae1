package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.fails;
import static io.otaflux.reliability.Bench.source;
import static io.otaflux.reliability.Bench.succeeds;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

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

  /** The URL of {@code route} on a fresh HTTPS server. */
  private String serve(TestServer.Route route) {
    return bench.https().route("/fw.bin", route).url("/fw.bin");
  }

  /** The URL of a raw HTTPS server answering with {@code script}. */
  private String raw(RawHttpsServer.Script script) {
    return bench.raw(script).url("/fw.bin");
  }

  /** A TCP proxy with {@code fault} on its first {@code faulty} connections, in front of a server of the image. */
  private FaultProxy proxied(Fault fault, int faulty) {
    return bench.proxy(bench.https().route("/fw.bin", Routes.image(image)).port(), fault, faulty);
  }

  /**
   * The URL of a server that cuts its first answer (the image) at byte 100000 and answers every
   * later request with {@code resume}, made from the first answer's route (for its ETag).
   */
  private String cutThenResumedWith(Function<Routes.Image, TestServer.Route> resume) {
    Routes.Image first = Routes.image(image).cutFirstAt(100_000);
    TestServer.Route then = resume.apply(first);
    return serve((req, res, n) -> n == 0 ? first.handle(req, res, n) : then.handle(req, res, n));
  }

  /** A 200 without Content-Length, then bytes forever. */
  private static RawHttpsServer.Script endless() {
    byte[] chunk = Bench.image(16 * 1024, 4);
    return (head, n) -> Flux.concat(Mono.just("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(US_ASCII)),
        Flux.<byte[]>generate(sink -> sink.next(chunk)));
  }

  private void failsAt(String url, int retries, Reason reason, String... names) {
    fails(bench.device(), UpdateRequest.of(url), retries, reason, names);
  }

  /** Runs {@code request} on a fresh device expecting success; checks slot a holds the image and boots next. */
  private List<UpdateEvent> installs(UpdateRequest request, int retries) {
    Device device = bench.device();
    List<UpdateEvent> events = succeeds(device, source(), request, retries);
    try {
      byte[] slot = Files.readAllBytes(device.store.slotPath(SlotId.A));
      assertThat(Sha256.digest(Arrays.copyOf(slot, image.length))).isEqualTo(Sha256.digest(image));
      assertThat(device.store.status().block(Device.WAIT).next()).isEqualTo(SlotId.A);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return events;
  }

  /** Every connection through the proxy breaks with {@code fault} (after 60000 bytes); one retry; each try resumes. */
  private void installsThroughFaultyConnections(Fault fault) {
    FaultProxy proxy = proxied(fault, Integer.MAX_VALUE);
    installs(UpdateRequest.of(proxy.url("/fw.bin")), 1);
    assertThat(proxy.connections()).as("one try per 60000 bytes").isGreaterThanOrEqualTo(6);
  }

  private UpdateRequest verified(String url) {
    return UpdateRequest.of(url).withSha256(Sha256.digest(image));
  }

  @Test
  @DisplayName("404 not found")
  @Case(category = "protocol", fault = "the image URL answers 404", outcome = "SERVER (5), not retried")
  void notFound() {
    TestServer server = bench.https();
    failsAt(server.url("/nope.bin"), 2, Reason.SERVER, "404", "URL");
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  @DisplayName("500 on every try")
  @Case(category = "protocol", fault = "the server answers 500 every time", outcome = "SERVER (5) after the retries")
  void serverError() {
    TestServer server = bench.https().route("/fw.bin", Routes.status(500, Map.of()));
    failsAt(server.url("/fw.bin"), 2, Reason.SERVER, "500");
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  @DisplayName("503 once, then the image")
  @Case(category = "protocol", fault = "503 with Retry-After: 0, then a good answer", outcome = "installed after one retry")
  void busyOnce() {
    Routes.Image good = Routes.image(image);
    installs(verified(serve((req, res, n) -> n == 0
        ? Routes.status(503, Map.of("Retry-After", "0")).handle(req, res, n) : good.handle(req, res, n))), 2);
  }

  @Test
  @DisplayName("wrong Content-Range on resume")
  @Case(category = "protocol", fault = "connection cut; the resume answers 206 with a Content-Range that starts elsewhere", outcome = "SERVER (5), the bytes are not written at the wrong offset")
  void wrongContentRange() {
    String url = cutThenResumedWith(first -> (req, res, n) -> res.status(206)
        .header(HttpHeaderNames.CONTENT_RANGE, "bytes 0-" + (image.length - 1) + "/" + image.length)
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(image.length))
        .header(HttpHeaderNames.ETAG, String.valueOf(first.etag()))
        .sendByteArray(Mono.just(image)));
    failsAt(url, 2, Reason.SERVER, "Content-Range");
  }

  @Test
  @DisplayName("200 to a range request")
  @Case(category = "protocol", fault = "connection cut; the server ignores Range and answers 200 with the whole image", outcome = "restarts from byte 0; installed, digest correct")
  void okToRange() {
    List<UpdateEvent> events = installs(verified(serve(Routes.image(image).ignoringRange().cutFirstAt(120_000))), 2);
    assertThat(events).filteredOn(UpdateEvent.Progress.class::isInstance)
        .allSatisfy(p -> assertThat(((UpdateEvent.Progress) p).bytesDone()).isLessThanOrEqualTo(image.length));
  }

  @Test
  @DisplayName("416 to a resume")
  @Case(category = "protocol", fault = "connection cut; every ranged request answers 416", outcome = "SERVER (5) after the retries")
  void rangeNotSatisfiable() {
    failsAt(cutThenResumedWith(first -> (req, res, n) -> res.status(416)
        .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + image.length).send()), 2, Reason.SERVER, "416");
  }

  @Test
  @DisplayName("premature close, no retries left")
  @Case(category = "protocol", fault = "server closes the connection at byte 100000 of 300000; retries 0", outcome = "NETWORK (4)")
  void prematureClose() {
    failsAt(serve(Routes.image(image).cutFirstAt(100_000)), 0, Reason.NETWORK, "lost");
  }

  @Test
  @DisplayName("Content-Length larger than the body")
  @Case(category = "protocol", fault = "Content-Length says 5000 bytes more than are sent before the close", outcome = "NETWORK (4) after the retries")
  void lengthLargerThanBody() {
    failsAt(raw((head, n) -> RawHttpsServer.answer(ok(image.length + 5000), image)), 1, Reason.NETWORK, "lost");
  }

  @Test
  @DisplayName("Content-Length smaller than the body")
  @Case(category = "protocol", fault = "Content-Length 5000 bytes short of the body sent; SHA-256 expected", outcome = "INTEGRITY (6)")
  void lengthSmallerThanBody() {
    String url = raw((head, n) -> RawHttpsServer.answer(ok(image.length - 5000), image));
    fails(bench.device(), verified(url), 1, Reason.INTEGRITY, "SHA-256");
  }

  @Test
  @DisplayName("endless body")
  @Case(category = "protocol", fault = "200 without Content-Length, bytes forever", outcome = "STORAGE (7) at the slot's end")
  void endlessBody() {
    failsAt(raw(endless()), 1, Reason.STORAGE, "larger than");
  }

  @Test
  @DisplayName("endless body, size expected")
  @Case(category = "protocol", fault = "200 without Content-Length, bytes forever; --size given", outcome = "INTEGRITY (6) past the expected size")
  void endlessBodyWithSize() {
    fails(bench.device(), UpdateRequest.of(raw(endless())).withSize(image.length), 1, Reason.INTEGRITY, "size");
  }

  @Test
  @DisplayName("huge headers")
  @Case(category = "protocol", fault = "a 200 with a 64 KiB header line", outcome = "SERVER (5)")
  void hugeHeaders() {
    String big = "X-Padding: " + "a".repeat(64 * 1024) + "\r\n";
    String url = raw((head, n) -> RawHttpsServer.answer(
        "HTTP/1.1 200 OK\r\n" + big + "Content-Length: " + image.length + "\r\n\r\n", image));
    failsAt(url, 1, Reason.SERVER, "not valid HTTP", "header");
  }

  @Test
  @DisplayName("slow headers")
  @Case(category = "protocol", fault = "the status line, then one header byte every 100 ms, forever (slowloris)", outcome = "NETWORK (4) within a bounded time")
  void slowHeaders() {
    String url = raw((head, n) -> Flux.concat(Mono.just("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(US_ASCII)),
        Flux.interval(Duration.ofMillis(100)).map(i -> new byte[] {'a'})));
    long start = System.nanoTime();
    failsAt(url, 0, Reason.NETWORK, "answer");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  @DisplayName("headers never come")
  @Case(category = "protocol", fault = "the server reads the request and never answers", outcome = "NETWORK (4) after the idle timeout")
  void noAnswer() {
    failsAt(serve(Routes.neverAnswer()), 0, Reason.NETWORK, "answer");
  }

  @Test
  @DisplayName("not HTTP at all")
  @Case(category = "protocol", fault = "the server answers with text that is not HTTP", outcome = "SERVER (5)")
  void notHttp() {
    byte[] ssh = "SSH-2.0-OpenSSH_9.2\r\nProtocol mismatch.\r\n\r\n".getBytes(US_ASCII);
    failsAt(raw((head, n) -> Mono.just(ssh)), 1, Reason.SERVER, "not valid HTTP");
  }

  @Test
  @DisplayName("stall mid-body")
  @Case(category = "protocol", fault = "the server stops sending at byte 100000, connection open; retries 0", outcome = "NETWORK (4) after the idle timeout")
  void stallMidBody() {
    String stalling = serve(Routes.image(image).stallFirstAt(100_000));
    failsAt(stalling, 0, Reason.NETWORK, "400 ms"); // the idle timeout, named
  }

  @Test
  @DisplayName("proxy cuts the TLS stream")
  @Case(category = "protocol", fault = "TCP proxy closes the connection after 200000 bytes, first connection only", outcome = "resumed with Range; installed, digest correct")
  void proxyCut() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy proxy = bench.proxy(server.port(), new Fault.Cut(200_000), 1);
    List<UpdateEvent> events = installs(verified(proxy.url("/fw.bin")), 2);
    assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOf(UpdateEvent.Retrying.class));
    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(1).header("Range")).startsWith("bytes=");
  }

  @Test
  @DisplayName("proxy resets the connection")
  @Case(category = "protocol", fault = "TCP proxy sends RST after 60000 bytes, every connection; 1 retry", outcome = "installed: every reset keeps the bytes it delivered and the next try resumes there")
  void proxyReset() {
    installsThroughFaultyConnections(new Fault.Reset(60_000));
  }

  @Test
  @DisplayName("proxy stalls")
  @Case(category = "protocol", fault = "TCP proxy stops forwarding after 60000 bytes, connections open, every connection; 1 retry", outcome = "installed: each stall ends after the idle timeout and the next try resumes where it stalled")
  void proxyStall() {
    installsThroughFaultyConnections(new Fault.Stall(60_000));
  }

  @Test
  @DisplayName("proxy drips")
  @Case(category = "protocol", fault = "TCP proxy forwards 4 KiB every 10 ms (slower than the server, faster than the idle timeout)", outcome = "installed, digest correct")
  void proxyDrip() {
    installs(verified(proxied(new Fault.Drip(4096, Duration.ofMillis(10)), Integer.MAX_VALUE).url("/fw.bin")), 0);
  }

  @Test
  @DisplayName("proxy flips a bit")
  @Case(category = "protocol", fault = "TCP proxy flips one bit at byte 50000 of the TLS stream; retries 0", outcome = "NETWORK (4): TLS refuses the record, no altered byte is written")
  void proxyFlip() {
    failsAt(proxied(new Fault.Flip(50_000), 1).url("/fw.bin"), 0, Reason.NETWORK, "connection");
  }
}
