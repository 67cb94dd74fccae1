package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.otaflux.UpdateRequest;
import io.otaflux.testkit.Fuzz;

import org.junit.jupiter.api.Test;

/**
 * A Package URI (/5/0/1) is text a server writes: every value ends in a download request or an
 * {@link io.otaflux.OtaException} whose detail gives the Update Result, never a crash.
 * {@code -Dotaflux.fuzz.seed=N} replays a run.
 */
class PackageUriFuzzTest {

  @Test
  void packageUrisEndInARequestOrAnUpdateResultWithASentence() {
    Fuzz.Summary summary = Fuzz.check("LwM2M Package URI", List.of("https://fw.example.com/gw/fw-2.0.0.bin",
        "https://fw.example.com/gw/manifest.json", "https://u:p@[::1]:8443/a%2Fb/fw.bin?sig=ab%2Bcd#x",
        "coap://dm.example/fw.bin", "HTTPS://FW.EXAMPLE/FW.JSON"), List.of("://", "@", "%", "%2", "[", "]", ":", "?",
        "#", "//", "https", "http", "..", ".json", "%00", "[::1.", "\u00e9", " "), input -> {
          try {
            UpdateRequest.of(FirmwareMachine.checkPackageUri(input));
          } catch (io.otaflux.OtaException e) {
            assertThat(FirmwareResult.of(e).code()).isBetween(2, 9);
            throw e;
          }
        });
    assertThat(summary.accepted()).isPositive();
    assertThat(summary.refused()).isPositive();
  }
}
