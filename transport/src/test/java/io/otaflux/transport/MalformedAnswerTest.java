package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.RawHttpsServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Answers no well-behaved server library sends: each is a named failure, in bounded time. */
@ExtendWith(NoLeaks.class)
class MalformedAnswerTest {

  /** Answers that come at once: the default timeouts leave a loaded machine's TLS set-up time enough. */
  private final HttpsFirmwareSource source = Servers.trustingRoot();
  private RawHttpsServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private OtaException fails(RawHttpsServer.Script script, Reason reason) {
    server = RawHttpsServer.start(PKI.localhost(), script);
    OtaException[] failure = new OtaException[1];
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure[0] = otaFailure(e, reason))
        .verify(TIMEOUT);
    return failure[0];
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void aHeaderLongerThanTheDecoderTakesIsAMalformedAnswerNotANetworkFailure() {
    OtaException e = fails((head, n) -> Mono.just(ascii("HTTP/1.1 200 OK\r\nX-Padding: " + "a".repeat(64 * 1024)
        + "\r\nContent-Length: 1\r\n\r\nx")), Reason.SERVER);
    assertThat(e.isTransient()).isFalse();
    assertThat(e.getMessage()).contains("not valid HTTP").contains("header").contains("Check");
  }

  @Test
  void anAnswerThatIsNotHttpIsAMalformedAnswer() {
    OtaException e = fails((head, n) -> Mono.just(ascii("SSH-2.0-OpenSSH_9.2\r\nProtocol mismatch.\r\n\r\n")),
        Reason.SERVER);
    assertThat(e.getMessage()).contains("not valid HTTP");
  }

  @Test
  void headersDrippedSlowerThanTheIdleTimeoutAllowsInTotalFailWithinIt() {
    // the deadline runs on a virtual clock: it fires when the test says, not when a loaded machine's
    // TLS set-up or a late drip happens to take long; every dripped byte would restart a per-read timer
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    Duration idle = Duration.ofSeconds(5);
    CountDownLatch dripping = new CountDownLatch(5);
    server = RawHttpsServer.start(PKI.localhost(), (head, n) -> Flux.concat(Mono.just(ascii("HTTP/1.1 200 OK\r\nX-Slow: ")),
        Flux.interval(Duration.ofMillis(100)).map(i -> ascii("a")).doOnNext(b -> dripping.countDown())));
    HttpsFirmwareSource dripped = source.idleTimeout(idle).scheduler(clock);
    StepVerifier.create(dripped.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start()))
        .then(() -> awaitDrips(dripping))
        .then(() -> clock.advanceTimeBy(idle.minusMillis(1)))
        // the drip goes on, and the answer is still awaited a moment before the deadline
        .expectNoEvent(Duration.ofMillis(300))
        .then(() -> clock.advanceTimeBy(Duration.ofMillis(1)))
        .expectErrorSatisfies(error -> {
          OtaException e = otaFailure(error, Reason.NETWORK);
          assertThat(e.isTransient()).isTrue();
          assertThat(e.getMessage()).contains("no answer within 5 s").contains("status and headers were not complete");
        })
        .verify(TIMEOUT);
  }

  private static void awaitDrips(CountDownLatch dripping) {
    try {
      assertThat(dripping.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("the server drips its headers").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
