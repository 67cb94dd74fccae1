package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.UpdateEvent;

import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void aDeltaDeclinedBecauseItWouldNotSaveBytesHasANullDetailAndItsSentence() {
    Map<String, Object> json = Json.event(new UpdateEvent.DeltaFallback("The delta would move as much as the image.", null));

    assertThat(json).containsEntry("event", "delta-fallback").containsEntry("detail", null)
        .containsEntry("message", "The delta would move as much as the image.");
  }

  @Test
  void aDeltaFallbackForAServerWithoutRangeNamesItsDetail() {
    Map<String, Object> json = Json.event(new UpdateEvent.DeltaFallback("No Range.", Detail.RANGE_NOT_SUPPORTED));

    assertThat(json).containsEntry("detail", "range_not_supported");
  }

  @Test
  void anErrorCarriesItsReasonDetailExitCodeAndHttpStatus() {
    Map<String, Object> json = Json.error(OtaException.httpStatus(404, "The server answered HTTP 404.", false));

    assertThat(json).containsEntry("event", "error").containsEntry("reason", "server")
        .containsEntry("detail", "http_status").containsEntry("httpStatus", 404).containsEntry("exitCode", 5);
  }
}
