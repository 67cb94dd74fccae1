package io.otaflux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;

import io.otaflux.UpdateRequest;

import org.junit.jupiter.api.Test;

class RedactionTest {

  private static final String SIGNED = "https://u:p@h.example/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1";

  @Test
  void removingTheUserInfoKeepsEveryOtherByteOfTheUrl() {
    assertThat(Redaction.withoutUserInfo(URI.create(SIGNED)).toString())
        .isEqualTo("https://h.example/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1");
    assertThat(Redaction.withoutUserInfo(URI.create("https://us%40er:p%3Aw@[::1]:8443/x%20y#f%23g")).toString())
        .isEqualTo("https://[::1]:8443/x%20y#f%23g");
  }

  @Test
  void aUrlWithoutUserInfoIsReturnedAsItIs() {
    URI plain = URI.create("https://h.example/a%2Fb/fw.bin?sig=ab%2Bcd%3D");
    assertThat(Redaction.withoutUserInfo(plain)).isSameAs(plain);
  }

  @Test
  void anUpdateRequestKeepsTheUrlByteForByteAndTheCredentialsApart() {
    UpdateRequest request = UpdateRequest.of(SIGNED);
    assertThat(request.uri().toString()).isEqualTo("https://h.example/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1");
    assertThat(request.uri().getRawPath()).isEqualTo("/a%2Fb/fw.bin");
    assertThat(request.uri().getRawQuery()).isEqualTo("sig=ab%2Bcd%3D%26x%3D1");
    assertThat(request.credentials()).isPresent();
    assertThat(Redaction.uri(URI.create(SIGNED))).doesNotContain("u:p");
  }
}
