package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

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

/** Answers no well-behaved server library sends: each is a named failure, in bounded time. */
@ExtendWith(NoLeaks.class)
class MalformedAnswerTest {

  private final HttpsFirmwareSource source = Servers.trustingRoot().idleTimeout(Duration.ofMillis(400));
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
    long start = System.nanoTime();
    OtaException e = fails((head, n) -> Flux.concat(Mono.just(ascii("HTTP/1.1 200 OK\r\nX-Slow: ")),
        Flux.interval(Duration.ofMillis(100)).map(i -> ascii("a"))), Reason.NETWORK);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    assertThat(e.isTransient()).isTrue();
    assertThat(e.getMessage()).contains("no answer within 400 ms");
  }
}
