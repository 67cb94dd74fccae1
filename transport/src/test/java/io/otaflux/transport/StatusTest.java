package io.otaflux.transport;

import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.test.StepVerifier;

@ExtendWith(NoLeaks.class)
class StatusTest {

  @RegisterExtension
  final Servers servers = new Servers();

  private final HttpsFirmwareSource source = Servers.trustingRoot();

  private OtaException fails(TestServer.Route route, Reason reason) {
    TestServer server = servers.https().route("/fw.bin", route);
    OtaException[] failure = new OtaException[1];
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure[0] = otaFailure(e, reason))
        .verify(TIMEOUT);
    return failure[0];
  }

  @Test
  void notFoundIsANonTransientServerFailureWithStatusAndReason() {
    OtaException e = fails(Routes.status(404, Map.of()), Reason.SERVER);
    assertThat(e.isTransient()).isFalse();
    assertThat(e.getMessage()).contains("HTTP 404 Not Found").contains("/fw.bin");
  }

  @Test
  void forbiddenPointsAtTheCredentials() {
    OtaException e = fails(Routes.status(403, Map.of()), Reason.SERVER);
    assertThat(e.isTransient()).isFalse();
    assertThat(e.getMessage()).contains("HTTP 403 Forbidden").contains("credentials");
  }

  @Test
  void serviceUnavailableIsTransientAndCarriesRetryAfter() {
    OtaException e = fails(Routes.status(503, Map.of("Retry-After", "7")), Reason.SERVER);
    assertThat(e.isTransient()).isTrue();
    assertThat(e.retryAfter()).hasValue(Duration.ofSeconds(7));
    assertThat(e.getMessage()).contains("HTTP 503 Service Unavailable");
  }

  @Test
  void tooManyRequestsIsTransient() {
    OtaException e = fails(Routes.status(429, Map.of()), Reason.SERVER);
    assertThat(e.isTransient()).isTrue();
    assertThat(e.retryAfter()).isEmpty();
  }

  @Test
  void anInternalErrorIsTransient() {
    assertThat(fails(Routes.status(500, Map.of()), Reason.SERVER).isTransient()).isTrue();
  }

  @Test
  void aNoContentAnswerIsNotAnImage() {
    assertThat(fails((req, res, n) -> res.status(204).send(), Reason.SERVER).getMessage()).contains("204");
  }

  @Test
  void aPartialAnswerToAnUnrangedRequestIsAServerFailure() {
    fails((req, res, n) -> res.status(206).header("Content-Range", "bytes 0-9/10").sendString(reactor.core.publisher.Mono.just("0123456789")),
        Reason.SERVER);
  }

  @Test
  void aPlainHttpUrlIsAUsageError() {
    StepVerifier.create(source.open(UpdateRequest.of("http://localhost:1/fw.bin"), ResumeFrom.start()))
        .expectErrorSatisfies(e -> otaFailure(e, Reason.USAGE))
        .verify(TIMEOUT);
  }

  @Test
  void retryAfterAsAnHttpDateIsADelay() {
    java.time.Instant now = java.time.Instant.now();
    String inTenSeconds = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
        .format(now.plusSeconds(10).atZone(java.time.ZoneOffset.UTC));
    assertThat(RetryAfter.parse(inTenSeconds, null, now)).isBetween(Duration.ofSeconds(9), Duration.ofSeconds(10));
    assertThat(RetryAfter.parse("soon", null, now)).isNull();
  }
}
