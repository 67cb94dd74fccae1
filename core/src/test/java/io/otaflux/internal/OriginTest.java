package io.otaflux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;

import io.otaflux.Credentials;
import io.otaflux.UpdateRequest;

import org.junit.jupiter.api.Test;

class OriginTest {

  private static Origin of(String uri) {
    return Origin.of(URI.create(uri));
  }

  @Test
  void hostsAndSchemesCompareWithoutCase() {
    assertThat(of("HTTPS://Fw.Example.COM/gw/manifest.json")).isEqualTo(of("https://fw.example.com/gw.bin"));
    assertThat(of("https://Fw.Example.COM/")).isEqualTo(new Origin("https", "fw.example.com", 443));
  }

  @Test
  void aMissingPortIsTheSchemesDefault() {
    assertThat(of("https://fw.example/a")).isEqualTo(of("https://fw.example:443/b"));
    assertThat(of("http://fw.example/a")).isEqualTo(of("http://fw.example:80/b"));
    assertThat(of("https://fw.example/a")).isNotEqualTo(of("https://fw.example:8443/a"));
    assertThat(of("https://fw.example:80/a")).isNotEqualTo(of("http://fw.example/a"));
  }

  @Test
  void httpAndHttpsAreDifferentOrigins() {
    assertThat(of("http://fw.example/a")).isNotEqualTo(of("https://fw.example/a"));
    assertThat(of("http://fw.example:443/a")).isNotEqualTo(of("https://fw.example/a"));
  }

  @Test
  void anIpv6LiteralIsAHostLikeAnyOther() {
    assertThat(of("https://[2001:DB8::1]/a")).isEqualTo(of("https://[2001:db8::1]:443/b"));
    assertThat(of("https://[2001:db8::1]/a")).isNotEqualTo(of("https://[2001:db8::2]/a"));
    assertThat(of("https://[::1]:8443/a").host()).isEqualTo("[::1]");
  }

  @Test
  void userInfoPlaysNoPart() {
    assertThat(of("https://ops:secret@fw.example/a")).isEqualTo(of("https://fw.example/b"));
    assertThat(of("https://ops:secret@fw.example/a").toString()).doesNotContain("secret").isEqualTo("https://fw.example:443");
    // a host the JDK cannot parse keeps its own name, without the user-info
    assertThat(of("https://ops@under_score.example/a")).isEqualTo(of("https://UNDER_score.example/b"))
        .isNotEqualTo(of("https://other_host.example/b"));
  }

  @Test
  void credentialsAreCarriedOnlyToTheSameOriginAndNeverReplaceTheTargetsOwn() {
    UpdateRequest manifest = UpdateRequest.of("https://ops:secret@FW.example/gw/manifest.json");
    assertThat(Origin.carryCredentials(manifest, UpdateRequest.of("https://fw.EXAMPLE:443/gw.bin")).credentials())
        .isEqualTo(manifest.credentials());
    assertThat(Origin.carryCredentials(manifest, UpdateRequest.of("https://cdn.example/gw.bin")).credentials()).isEmpty();
    assertThat(Origin.carryCredentials(manifest, UpdateRequest.of("https://fw.example:8443/gw.bin")).credentials())
        .isEmpty();
    UpdateRequest own = UpdateRequest.of("https://fw.example/gw.bin").withCredentials(Credentials.bearer("t"));
    assertThat(Origin.carryCredentials(manifest, own).credentials()).isEqualTo(own.credentials());
  }
}
