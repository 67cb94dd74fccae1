package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.testkit.InMemorySlotStore;

import org.junit.jupiter.api.Test;

/** What the builder refuses, and what it never shows. */
class Lwm2mAgentBuilderTest {

  private static final byte[] KEY = "do-not-print-me".getBytes(StandardCharsets.UTF_8);

  private static Lwm2mAgent.Builder base() {
    return Lwm2mAgent.builder().endpoint("gw").updater(OtaUpdater.create()).store(InMemorySlotStore.create(1024));
  }

  @Test
  void plainCoapIsRefusedUnlessAllowed() {
    assertThatThrownBy(() -> base().server(URI.create("coap://127.0.0.1:5683")).build())
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(OtaException.Reason.USAGE))
        .hasMessageContaining("plain coap");
    assertThat(base().server(URI.create("coap://127.0.0.1:5683")).allowInsecureCoap(true).build().server().getScheme())
        .isEqualTo("coap");
  }

  @Test
  void coapsWithoutAKeyIsRefused() {
    assertThatThrownBy(() -> base().server(URI.create("coaps://127.0.0.1:5684")).build())
        .isInstanceOf(OtaException.class).hasMessageContaining("pre-shared key");
  }

  @Test
  void anUpperCaseSchemeIsNormalisedOnceAndTheSecurityFollowsIt() {
    assertThat(base().server(URI.create("COAPS://127.0.0.1:5684/x?y")).psk("gw", KEY).build().server())
        .isEqualTo(URI.create("coaps://127.0.0.1:5684/x?y"));
    assertThatThrownBy(() -> base().server(URI.create("CoAp://127.0.0.1:5683")).build())
        .isInstanceOf(OtaException.class).hasMessageContaining("plain coap");
    assertThatThrownBy(() -> base().server(URI.create("CoAp://127.0.0.1:5683")).allowInsecureCoap(true)
        .psk("gw", KEY).build()).isInstanceOf(OtaException.class).hasMessageContaining("coaps://");
  }

  @Test
  void otherSchemesAreRefused() {
    assertThatThrownBy(() -> base().server(URI.create("https://127.0.0.1")).build())
        .isInstanceOf(OtaException.class).hasMessageContaining("coaps://");
  }

  @Test
  void theKeyIsNeverShownAndTheBuilderIsCopyOnWrite() {
    Lwm2mAgent.Builder template = base().server(URI.create("coaps://127.0.0.1:5684"));
    Lwm2mAgent.Builder keyed = template.psk("gw", KEY);
    KEY[0] = 'X'; // the builder copied the key
    assertThatThrownBy(template::build).isInstanceOf(OtaException.class);
    Lwm2mAgent agent = keyed.build();
    assertThat(keyed.toString()).contains("psk-identity=gw").contains("<redacted>").doesNotContain("print-me");
    assertThat(agent.toString()).doesNotContain("print-me");
  }
}
