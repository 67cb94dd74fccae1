package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.RecordingLeakDetector;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import reactor.core.publisher.Flux;

/**
 * One case's bench: servers, proxies and a device, all closed after the case; then the checks
 * every case shares: file descriptors and threads back where they were (waiting for them to
 * settle), and no Netty buffer leaked (paranoid leak detection).
 */
final class Bench implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {

  static final TestPki PKI = TestPki.shared();
  static final Duration WAIT = Duration.ofSeconds(15);
  static final Duration IDLE = Duration.ofMillis(400);
  /** File descriptors and threads a case may leave behind at most (pools warm up lazily). */
  static final int TOLERANCE = 2;

  private static volatile boolean warm;

  private final List<AutoCloseable> started = new ArrayList<>();
  private Resources before;
  private Path tmp;

  static byte[] image(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** A port nothing listens on (it was free a moment ago). */
  static int freePort() {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    RecordingLeakDetector.collect();
    assertThat(RecordingLeakDetector.isInstalled()).as("run with the RecordingLeakDetector (see pom.xml)").isTrue();
    warmUp();
  }

  /** Starts every shared pool (Netty loops, schedulers, TLS) once, so a case's counts compare like with like. */
  static synchronized void warmUp() {
    if (warm) {
      return;
    }
    byte[] bytes = image(300_000, 99);
    try (TestServer server = TestServer.https(PKI.localhost()).route("/w.bin", Routes.image(bytes));
        FaultProxy proxy = FaultProxy.start(server.port(), new FaultProxy.Fault.None());
        RawHttpsServer raw = RawHttpsServer.start(PKI.localhost(), (h, n) -> RawHttpsServer.answer(
            "HTTP/1.1 200 OK\r\nContent-Length: " + bytes.length + "\r\n\r\n", bytes))) {
      for (String url : List.of(server.url("/w.bin"), proxy.url("/w.bin"), raw.url("/w.bin"))) {
        Path dir = Files.createTempDirectory("otaflux-warm");
        Device device = Device.fresh(dir.resolve("slots"));
        updater(device, source(), 1).update(UpdateRequest.of(url)).blockLast(WAIT);
      }
    } catch (Exception e) {
      throw new IllegalStateException("warm-up failed", e);
    }
    warm = true;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    beforeAll(context); // an instance-field extension gets no beforeAll call of its own
    tmp = Files.createTempDirectory("otaflux-case");
    before = Resources.now();
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    started.clear();
    Resources.assertSettled(before, TOLERANCE);
    Resources.assertNoNettyLeaks();
  }

  /** A fresh device in this case's temporary directory. */
  Device device() {
    return Device.fresh(tmp.resolve("slots-" + System.nanoTime()));
  }

  Path tmp() {
    return tmp;
  }

  TestServer https() {
    return https(PKI.localhost());
  }

  TestServer https(TestPki.Identity identity) {
    return add(TestServer.https(identity));
  }

  FaultProxy proxy(int port, FaultProxy.Fault fault, int faultyConnections) {
    return add(FaultProxy.start(port, fault, faultyConnections));
  }

  RawHttpsServer raw(RawHttpsServer.Script script) {
    return add(RawHttpsServer.start(PKI.localhost(), script));
  }

  <T extends AutoCloseable> T add(T resource) {
    started.add(resource);
    return resource;
  }

  /** The HTTPS source a device uses: trusts the test root, short timeouts. */
  static HttpsFirmwareSource source() {
    return HttpsFirmwareSource.create().trustAnchors(TrustAnchors.of(List.of(PKI.root().certificate())))
        .connectTimeout(Duration.ofSeconds(2)).handshakeTimeout(Duration.ofSeconds(2)).idleTimeout(IDLE);
  }

  static OtaUpdater updater(Device device, FirmwareSource source, int retries) {
    return OtaUpdater.create().source(source).store(device.store)
        .retry(retries, Duration.ofMillis(10), Duration.ofMillis(40)).syncEvery(64 * 1024);
  }

  /** Runs the update, expecting it to fail; returns the failure. */
  static OtaException failure(Flux<UpdateEvent> update) {
    List<UpdateEvent> events = new ArrayList<>();
    Throwable error = null;
    try {
      update.doOnNext(events::add).blockLast(WAIT);
    } catch (RuntimeException e) {
      error = reactor.core.Exceptions.unwrap(e);
    }
    assertThat(error).as("the update fails; events: %s", events).isInstanceOf(OtaException.class);
    return (OtaException) error;
  }

  /** Runs the update on {@code device} through {@link #source()} and returns the failure, checked. */
  static OtaException fails(Device device, UpdateRequest request, int retries, OtaException.Reason reason,
      String... names) {
    return fails(device, source(), request, retries, reason, names);
  }

  static OtaException fails(Device device, FirmwareSource source, UpdateRequest request, int retries,
      OtaException.Reason reason, String... names) {
    return fails(device, updater(device, source, retries).update(request), reason, names);
  }

  /** Runs {@code update} of {@code device}: it fails with {@code reason} in a sentence naming {@code names}; the device as it was. */
  static OtaException fails(Device device, Flux<UpdateEvent> update, OtaException.Reason reason, String... names) {
    OtaException e = failure(update);
    assertThat(e.reason()).as("reason of: %s", e.getMessage()).isEqualTo(reason);
    Sentence.check(e.getMessage(), names);
    device.assertUnchanged();
    return e;
  }

  /** Runs the update, expecting success; returns the events. */
  static List<UpdateEvent> succeeds(Device device, FirmwareSource source, UpdateRequest request, int retries) {
    List<UpdateEvent> events = updater(device, source, retries).update(request).collectList().block(WAIT);
    assertThat(events).isNotNull();
    assertThat(events.get(events.size() - 1)).isInstanceOf(UpdateEvent.Activated.class);
    return events;
  }
}
