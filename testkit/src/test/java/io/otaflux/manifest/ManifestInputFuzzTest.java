package io.otaflux.manifest;

import static io.otaflux.manifest.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.otaflux.UpdateRequest;
import io.otaflux.testkit.Fuzz;

import org.junit.jupiter.api.Test;

/**
 * Text a server or a user controls (manifest JSON, versions, PEM keys, URLs) never ends in a
 * crash: only a result or an {@link io.otaflux.OtaException} with a reason and a sentence.
 * {@code -Dotaflux.fuzz.seed=N} replays a run.
 */
class ManifestInputFuzzTest {

  private static final URI LOCATION = URI.create("https://fw.example/gw/manifest.json");

  private static String manifest(SigningKey key, String version, String url) {
    return Manifest.builder().version(version).url(url).image(utf8("the image")).sign(key).json();
  }

  @Test
  void manifestJsonEndsInAManifestOrASentence() {
    String signed = manifest(Fixtures.ED25519, "2.0.0-rc.1+build.7", "gw-2.0.0.bin");
    String absolute = manifest(Fixtures.P256, "10.20.30", "https://cdn.example:8443/a%2Fb/fw.bin?sig=ab%2Bcd");
    TrustedKeys keys = TrustedKeys.of(Fixtures.ED25519.publicKey(), Fixtures.P256.publicKey());
    Fuzz.Summary summary = Fuzz.check("manifest JSON", List.of(signed, absolute, "{}", "{\"a\":\"b\"}"),
        List.of("{", "}", "[", "]", ":", ",", "\"", "\\u", "\\ud800", "\\", "\"size\":", "\"url\":", "-0", "1e999",
            "null", "true", "\uFEFF", "\"format\":\"otaflux-manifest/1\"", "\"version\":\"1.0.0\""),
        input -> {
          byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
          Manifest parsed = Manifest.parse(bytes, LOCATION);
          keys.authenticate(parsed);
          parsed.request();
          Manifest.parse(bytes, null);
        });
    assertThat(summary.refused()).isPositive();
  }

  @Test
  void rawManifestBytesEndInAManifestOrASentence() {
    TrustedKeys keys = TrustedKeys.of(Fixtures.ED25519.publicKey());
    String signed = manifest(Fixtures.ED25519, "1.2.3", "gw.bin");
    Fuzz.check("manifest bytes", List.of(signed), List.of("\u00ff", "\u00c3", "\u00e2\u0082", "\u00ef\u00bb\u00bf"),
        input -> keys.verify(input.getBytes(StandardCharsets.ISO_8859_1), LOCATION));
  }

  @Test
  void semanticVersionEndsInAVersionOrASentence() {
    Fuzz.Summary summary = Fuzz.check("SemanticVersion", List.of("1.0.0", "2.10.3-rc.1+build.5", "0.0.1-alpha.beta.1",
        "1.0.0-0A.is.legal", "18446744073709551615.0.0"), List.of(".", "-", "+", "0", "00", "9999999999999999999",
        "alpha", "..", "-.", "+."), input -> {
          SemanticVersion v = SemanticVersion.parse(input);
          assertThat(SemanticVersion.parse(v.toString())).isEqualTo(v);
          v.compareTo(SemanticVersion.parse("1.0.0"));
        });
    assertThat(summary.accepted()).isPositive();
  }

  @Test
  void publicKeyPemEndsInAKeyOrASentence() {
    Fuzz.check("manifest key PEM", List.of(Fixtures.RFC8032_PUBLIC_PEM, Fixtures.P256.publicKey().pem(),
        Fixtures.RFC8032_PRIVATE_PEM), List.of("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----",
        "-----BEGIN ", "-----END ", "-----", "=", "\n", "MCowBQYDK2Vw"), VerificationKey::fromPem);
  }

  @Test
  void urlsEndInARequestOrASentence() {
    Fuzz.check("image URL", List.of("https://fw.example.com/gw/fw.bin",
        "https://u:p@h.example/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1", "https://[::1]:8443/fw.bin#frag",
        "https://xn--zrich-kva.example/f\u00fcr/fw.bin"), List.of("://", "@", "%", "%2", "[", "]", ":", "?", "#",
        "//", "https", "..", "%00", "\u00e9"), input -> UpdateRequest.of(input).toString());
  }
}
