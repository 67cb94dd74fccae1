package io.otaflux.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.OtaException;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/** Starts test servers for one test and closes them after it; shared test values. */
final class Servers implements AfterEachCallback {

  static final Duration TIMEOUT = Duration.ofSeconds(10);
  static final TestPki PKI = TestPki.shared();

  private final List<TestServer> started = new ArrayList<>();

  TestServer https(TestPki.Identity identity) {
    return add(TestServer.https(identity));
  }

  TestServer https(TestPki.Identity identity, String... protocols) {
    return add(TestServer.https(identity, protocols));
  }

  TestServer https() {
    return https(PKI.localhost());
  }

  TestServer plainHttp() {
    return add(TestServer.plainHttp());
  }

  TestServer hangingUp() {
    return add(TestServer.hangingUp());
  }

  TestServer refusingTlsVersion() {
    return add(TestServer.refusingTlsVersion());
  }

  TestServer answeringWithTls11ServerHello() {
    return add(TestServer.answeringWithTls11ServerHello());
  }

  TestServer silent() {
    return add(TestServer.silent());
  }

  private synchronized TestServer add(TestServer server) {
    started.add(server);
    return server;
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    started.forEach(TestServer::close);
    started.clear();
  }

  static HttpsFirmwareSource trustingRoot() {
    return HttpsFirmwareSource.create().trustAnchors(TrustAnchors.of(List.of(PKI.root().certificate())));
  }

  static byte[] image(int size) {
    byte[] bytes = new byte[size];
    new Random(size * 31L).nextBytes(bytes);
    return bytes;
  }

  static OtaException otaFailure(Throwable error, OtaException.Reason reason) {
    assertThat(error).isInstanceOf(OtaException.class);
    OtaException e = (OtaException) error;
    assertThat(e.reason()).as("reason of: %s", e.getMessage()).isEqualTo(reason);
    return e;
  }

  /** Opening the URL from the source fails with this reason; returns the failure for the test's own checks. */
  static OtaException openFails(FirmwareSource source, String url, OtaException.Reason reason) {
    AtomicReference<OtaException> failure = new AtomicReference<>();
    StepVerifier.create(source.open(UpdateRequest.of(url), ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure.set(otaFailure(e, reason)))
        .verify(TIMEOUT);
    return failure.get();
  }
}
