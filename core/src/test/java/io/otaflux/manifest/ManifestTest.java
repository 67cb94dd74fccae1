package io.otaflux.manifest;

import static io.otaflux.manifest.Fixtures.assertReason;
import static io.otaflux.manifest.Fixtures.remove;
import static io.otaflux.manifest.Fixtures.replace;
import static io.otaflux.manifest.Fixtures.text;
import static io.otaflux.manifest.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Random;

import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.UpdateRequest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvFileSource;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestTest {

  private static final URI LOCATION = URI.create("https://fw.example/gw/stable/manifest.json");
  private static final Sha256 GOLDEN_SHA = Sha256.ofHex("2e5188f66ee912b646debbe75faa8092fcf1e7e7ae6f182fad9e273ccda5c4f3");

  private final TrustedKeys trusted = TrustedKeys.of(Fixtures.ED25519.publicKey());

  private static Manifest.Builder fields() {
    return Manifest.builder().version("2.0.0").url("gw-2.0.0.bin").image(1_048_576, GOLDEN_SHA)
        .created(Instant.parse("2026-11-25T12:00:00Z"));
  }

  private String json() {
    return fields().sign(Fixtures.ED25519).json();
  }

  @Test
  void canonicalBytesAndSignatureOfAFixedKeyAndFixedFieldsNeverChange() {
    Manifest m = fields().sign(SigningKey.fromPem(Fixtures.RFC8032_PRIVATE_PEM));
    // the same bytes were built by hand in Python, and the signature made by `openssl pkeyutl -sign -rawin`
    assertThat(text(m.signedBytes())).isEqualTo("{\"algorithm\":\"ed25519\",\"created\":\"2026-11-25T12:00:00Z\","
        + "\"format\":\"otaflux-manifest/1\",\"keyId\":\"" + Fixtures.RFC8032_KEY_ID + "\","
        + "\"sha256\":\"2e5188f66ee912b646debbe75faa8092fcf1e7e7ae6f182fad9e273ccda5c4f3\",\"size\":1048576,"
        + "\"url\":\"gw-2.0.0.bin\",\"version\":\"2.0.0\"}");
    assertThat(Base64.getEncoder().encodeToString(m.signature())).isEqualTo(
        "db0v/1QR2miW9H+uYzeKn9DQpPDaU1Lm6pIndrwJMzvme08YpGE6xcjlgT6YQA9CH0Rkrd2+JGgUC0WWnGDGBA==");
    assertThat(m.json()).isEqualTo("{\n"
        + "  \"format\": \"otaflux-manifest/1\",\n"
        + "  \"version\": \"2.0.0\",\n"
        + "  \"size\": 1048576,\n"
        + "  \"sha256\": \"2e5188f66ee912b646debbe75faa8092fcf1e7e7ae6f182fad9e273ccda5c4f3\",\n"
        + "  \"url\": \"gw-2.0.0.bin\",\n"
        + "  \"created\": \"2026-11-25T12:00:00Z\",\n"
        + "  \"algorithm\": \"ed25519\",\n"
        + "  \"keyId\": \"" + Fixtures.RFC8032_KEY_ID + "\",\n"
        + "  \"signature\": \"db0v/1QR2miW9H+uYzeKn9DQpPDaU1Lm6pIndrwJMzvme08YpGE6xcjlgT6YQA9CH0Rkrd2+JGgUC0WWnGDGBA==\"\n"
        + "}\n");
    Manifest parsed = TrustedKeys.of(VerificationKey.fromPem(Fixtures.RFC8032_PUBLIC_PEM)).verify(utf8(m.json()), LOCATION);
    assertThat(parsed.signedBytes()).isEqualTo(m.signedBytes());
  }

  @Test
  void aCreatedManifestParsesBackToTheSameFields() {
    Manifest created = fields().sign(Fixtures.ED25519);
    Manifest parsed = trusted.verify(utf8(created.json()), LOCATION);
    assertThat(parsed.version()).isEqualTo(SemanticVersion.parse("2.0.0"));
    assertThat(parsed.size()).isEqualTo(1_048_576);
    assertThat(parsed.sha256()).isEqualTo(GOLDEN_SHA);
    assertThat(parsed.url()).isEqualTo("gw-2.0.0.bin");
    assertThat(parsed.created()).isEqualTo(Instant.parse("2026-11-25T12:00:00Z"));
    assertThat(parsed.algorithm()).isEqualTo(SignatureAlgorithm.ED25519);
    assertThat(parsed.keyId()).isEqualTo(Fixtures.ED25519.publicKey().keyId());
    assertThat(parsed.verifiedBy()).contains(Fixtures.ED25519.publicKey());
    assertThat(parsed.location()).contains(LOCATION);
    assertThat(parsed.json()).isEqualTo(created.json());
    assertThat(created.verifiedBy()).contains(Fixtures.ED25519.publicKey());
  }

  @Test
  void memberOrderWhiteSpaceAndEscapesDoNotChangeWhatIsSigned() {
    Manifest created = fields().url("images/gw-é.bin").sign(Fixtures.ED25519);
    assertThat(text(created.signedBytes())).contains("\"url\":\"images/gw-é.bin\"");
    String rewritten = "{\"signature\":\"" + Base64.getEncoder().encodeToString(created.signature()) + "\",\r\n"
        + "\t\"url\" : \"images\\/gw-\\u00e9.bin\", \"size\":1048576, \"sha256\":\"" + GOLDEN_SHA.hex() + "\",\n"
        + "\"version\":\"2.0.0\",\"created\":\"2026-11-25T12:00:00Z\",\"algorithm\":\"ed25519\",\"keyId\":\""
        + created.keyId() + "\",\"format\":\"otaflux-manifest/1\"}";
    Manifest parsed = trusted.verify(utf8(rewritten), LOCATION);
    assertThat(parsed.signedBytes()).isEqualTo(created.signedBytes());
    assertThat(parsed.imageUri()).contains(URI.create("https://fw.example/gw/stable/images/gw-é.bin"));
  }

  @Test
  void aRelativeUrlIsResolvedAgainstTheManifestsUrl() {
    assertThat(trusted.verify(utf8(json()), LOCATION).imageUri())
        .contains(URI.create("https://fw.example/gw/stable/gw-2.0.0.bin"));
    String up = Manifest.builder().version("2.0.0").url("../images/gw.bin").image(new byte[1]).sign(Fixtures.ED25519).json();
    assertThat(trusted.verify(utf8(up), LOCATION).imageUri()).contains(URI.create("https://fw.example/gw/images/gw.bin"));
    String rooted = Manifest.builder().version("2.0.0").url("/fw/gw.bin").image(new byte[1]).sign(Fixtures.ED25519).json();
    assertThat(trusted.verify(utf8(rooted), LOCATION).imageUri()).contains(URI.create("https://fw.example/fw/gw.bin"));
  }

  @Test
  void theManifestsLocationNeverKeepsUserInfo() {
    Manifest m = trusted.verify(utf8(json()), URI.create("https://ops:secret@fw.example/gw/manifest.json"));
    assertThat(m.location()).contains(URI.create("https://fw.example/gw/manifest.json"));
    assertThat(m.imageUri()).contains(URI.create("https://fw.example/gw/gw-2.0.0.bin"));
  }

  @Test
  void anAbsoluteUrlIsKeptAsItIs() {
    String abs = Manifest.builder().version("2.0.0").url("https://cdn.example/gw.bin").image(new byte[1])
        .sign(Fixtures.ED25519).json();
    assertThat(trusted.verify(utf8(abs), LOCATION).imageUri()).contains(URI.create("https://cdn.example/gw.bin"));
    assertThat(trusted.verify(utf8(abs)).imageUri()).contains(URI.create("https://cdn.example/gw.bin"));
  }

  @Test
  void aRelativeUrlWithoutTheManifestsUrlCannotMakeARequest() {
    Manifest m = trusted.verify(utf8(json()));
    assertThat(m.imageUri()).isEmpty();
    assertThatThrownBy(m::request).satisfies(e -> assertReason(e, Reason.USAGE)).hasMessageContaining("relative");
  }

  @Test
  void theRequestIsBoundToTheManifestsUrlSizeDigestAndVersion() {
    UpdateRequest request = trusted.verify(utf8(json()), LOCATION).request();
    assertThat(request.uri()).isEqualTo(URI.create("https://fw.example/gw/stable/gw-2.0.0.bin"));
    assertThat(request.size()).hasValue(1_048_576);
    assertThat(request.sha256()).contains(GOLDEN_SHA);
    assertThat(request.version()).contains("2.0.0");
    assertThat(request.isActivating()).isTrue();
  }

  @Test
  void hashesAnImageFileInOneStreamedPass(@TempDir Path dir) throws IOException {
    byte[] chunk = new byte[1 << 20];
    new Random(7).nextBytes(chunk);
    Path file = dir.resolve("gw.bin");
    java.security.MessageDigest expected;
    try (OutputStream out = Files.newOutputStream(file)) {
      expected = Sha256Of.start();
      for (int i = 0; i < 5; i++) {
        out.write(chunk);
        expected.update(chunk);
      }
    }
    Manifest m = Manifest.builder().version("1.0.0").url("gw.bin").image(file).sign(Fixtures.ED25519);
    assertThat(m.size()).isEqualTo(5L << 20);
    assertThat(m.sha256()).isEqualTo(Sha256.of(expected.digest()));
    assertThat(Manifest.builder().version("1.0.0").url("gw.bin").image(chunk).sign(Fixtures.ED25519).sha256())
        .isEqualTo(Sha256.digest(chunk));
    assertThatThrownBy(() -> Manifest.builder().image(dir.resolve("nope.bin")))
        .satisfies(e -> assertReason(e, Reason.USAGE)).hasMessageContaining("does not exist");
  }

  @Test
  void theCreationTimeDefaultsToNowToTheSecond() {
    Instant before = Instant.now().minusSeconds(1);
    Manifest m = Manifest.builder().version("1.0.0").url("gw.bin").image(new byte[1]).sign(Fixtures.ED25519);
    assertThat(m.created()).isAfter(before).isBeforeOrEqualTo(Instant.now());
    assertThat(m.created().getNano()).isZero();
    assertThat(m.json()).containsPattern("\"created\": \"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\"");
  }

  @Test
  void refusesToSignWithoutVersionUrlOrImage() {
    assertThatThrownBy(() -> Manifest.builder().url("x").image(new byte[1]).sign(Fixtures.ED25519))
        .satisfies(e -> assertReason(e, Reason.USAGE)).hasMessageContaining("a version");
    assertThatThrownBy(() -> Manifest.builder().version("1.0.0").image(new byte[1]).sign(Fixtures.ED25519))
        .satisfies(e -> assertReason(e, Reason.USAGE)).hasMessageContaining("an image URL");
    assertThatThrownBy(() -> Manifest.builder().version("1.0.0").url("x").sign(Fixtures.ED25519))
        .satisfies(e -> assertReason(e, Reason.USAGE)).hasMessageContaining("the image");
    assertThatThrownBy(() -> Manifest.builder().version("v2")).satisfies(e -> assertReason(e, Reason.USAGE));
    assertThatThrownBy(() -> Manifest.builder().url("http://bad host/")).satisfies(e -> assertReason(e, Reason.USAGE));
    assertThatThrownBy(() -> Manifest.builder().url("")).satisfies(e -> assertReason(e, Reason.USAGE));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not json", "[]", "{", "{\"version\":\"2.0.0\",}", "{} trailing", "{\"a\":{\"b\":1}}"})
  void malformedJsonIsAnIntegrityErrorThatSaysSo(String bad) {
    assertThatThrownBy(() -> trusted.verify(utf8(bad), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY))
        .hasMessageContaining("The manifest from https://fw.example/gw/stable/manifest.json is not valid")
        .hasMessageContaining("nothing was downloaded");
  }

  @ParameterizedTest
  @ValueSource(strings = {"format", "version", "size", "sha256", "url", "created", "algorithm", "keyId", "signature"})
  void aMissingFieldIsNamed(String field) {
    assertThatThrownBy(() -> trusted.verify(utf8(remove(json(), field)), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY))
        .hasMessageContaining("the field \"" + field + "\" is missing");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvFileSource(resources = "invalid-fields.csv", delimiter = '|', quoteCharacter = '\'')
  void aWronglyTypedOrFormedFieldIsNamed(String field, String value, String named) {
    assertInvalid(replace(json(), field, value), named);
  }

  @Test
  void anUnknownOrRepeatedFieldIsNamed() {
    String json = json();
    assertInvalid(json.replace("{", "{\"extra\":\"x\","), "unknown field \"extra\"");
    assertInvalid(json.replace("{", "{\"version\":\"9.0.0\","), "appears twice");
  }

  @Test
  void aHugeHostileVersionIsAnIntegrityErrorNotAStackOverflow() {
    String hostile = replace(json(), "version", "\"1.0.0-" + "a.".repeat(30_000) + "!\"");
    assertInvalid(hostile, "at most 256 characters");
  }

  @Test
  void aManifestThatIsNotUtf8IsRefused() {
    byte[] bytes = utf8(json());
    bytes[bytes.length / 2] = (byte) 0xff;
    assertThatThrownBy(() -> trusted.verify(bytes, LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("UTF-8");
  }

  private void assertInvalid(String json, String detail) {
    assertThatThrownBy(() -> trusted.verify(utf8(json), LOCATION))
        .as(json)
        .satisfies(e -> assertReason(e, Reason.INTEGRITY))
        .hasMessageContaining("is not valid")
        .hasMessageContaining(detail);
  }

  /** A JDK digest, to check ours against. */
  private static final class Sha256Of {
    static java.security.MessageDigest start() {
      try {
        return java.security.MessageDigest.getInstance("SHA-256");
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new AssertionError(e);
      }
    }
  }
}
