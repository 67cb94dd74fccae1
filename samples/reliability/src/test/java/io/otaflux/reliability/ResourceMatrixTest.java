package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.WAIT;
import static io.otaflux.reliability.Bench.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateSession;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** Aborts at every stage: each releases the connection, the writer and the lock. */
class ResourceMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(600_000, 12);

  /** The update of {@code server}'s /fw.bin (idle timeout 5 s) is aborted once {@code when} signals: ABORTED, device as it was. */
  private void abortWhen(TestServer server, Mono<?> when) {
    Device device = bench.device(); // first: copying the store must not eat into the time before the abort
    Sinks.One<Void> trigger = Sinks.one();
    when.subscribe(x -> trigger.tryEmitEmpty(), null, trigger::tryEmitEmpty);
    Bench.fails(device, Bench.updater(device, source().idleTimeout(Duration.ofSeconds(5)), 0)
        .update(UpdateRequest.of(server.url("/fw.bin")), trigger.asMono()), Reason.ABORTED, "abort");
  }

  @Test
  @DisplayName("many failed updates in a row")
  @Case(category = "resources", fault = "20 updates against a server that cuts every answer at byte 50000", outcome = "NETWORK (4) each time; no descriptor, thread or buffer left behind")
  void manyFailures() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image).cutFirstAt(50_000));
    FaultProxy proxy = bench.proxy(server.port(), new FaultProxy.Fault.Cut(50_000), Integer.MAX_VALUE);
    for (int i = 0; i < 20; i++) {
      // a fresh store each time: in one store every break keeps its bytes, and the runs would add up to the image
      Bench.fails(bench.device(), UpdateRequest.of(proxy.url("/fw.bin")), 0, Reason.NETWORK, "lost");
    }
  }
  @Test
  @DisplayName("abort mid-download")
  @Case(category = "resources", fault = "abort after the first progress event, image streaming", outcome = "ABORTED (8); the server sees the connection close")
  void abortMidDownload() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    FaultProxy slow = bench.proxy(server.port(), new FaultProxy.Fault.Drip(8192, Duration.ofMillis(10)), 1);
    Device device = bench.device();
    UpdateSession session = Bench.updater(device, source(), 0).session(UpdateRequest.of(slow.url("/fw.bin")));
    session.events().filter(UpdateEvent.Progress.class::isInstance).next().subscribe(p -> session.abort());
    session.start();
    Throwable error = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
        () -> session.result().block(WAIT));
    OtaException e = (OtaException) reactor.core.Exceptions.unwrap(error);
    assertThat(e.reason()).isEqualTo(Reason.ABORTED);
    Sentence.check(e.getMessage(), "abort");
    device.assertUnchanged();
    server.allClosed(1).block(WAIT);
  }

  @Test
  @DisplayName("abort while the server stalls")
  @Case(category = "resources", fault = "abort while the server holds the body at byte 100000 (idle timeout 5 s)", outcome = "ABORTED (8) at once, not after the timeout")
  void abortDuringStall() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image).stallFirstAt(100_000));
    long start = System.nanoTime();
    abortWhen(server, server.received(1).delayElement(Duration.ofMillis(200)));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    server.allClosed(1).block(WAIT);
  }

  @Test
  @DisplayName("abort during the handshake")
  @Case(category = "resources", fault = "abort while a silent peer holds the TLS handshake", outcome = "ABORTED (8); the socket is closed")
  void abortDuringHandshake() {
    TestServer silent = bench.add(TestServer.silent());
    abortWhen(silent, Mono.delay(Duration.ofMillis(300)));
    silent.allClosed(1).block(WAIT);
  }

}
