package io.otaflux.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.OtaException;

/** Keys and manifests the tests share. */
final class Fixtures {

  /** The secret key of RFC 8032 section 7.1, test 1, as unencrypted PKCS#8. */
  static final String RFC8032_PRIVATE_PEM = "-----BEGIN PRIVATE KEY-----\n"
      + "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
      + "-----END PRIVATE KEY-----\n";
  /** Its public key, as {@code openssl pkey -pubout} writes it. */
  static final String RFC8032_PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\n"
      + "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
      + "-----END PUBLIC KEY-----\n";
  /** {@code openssl pkey -pubin -in pub.pem -outform DER | sha256sum}. */
  static final String RFC8032_KEY_ID = "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9";

  static final SigningKey ED25519 = SigningKey.generate();
  static final SigningKey OTHER_ED25519 = SigningKey.generate();
  static final SigningKey P256 = SigningKey.generate(SignatureAlgorithm.ECDSA_P256_SHA256);

  private Fixtures() {
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** The JSON text with one member's value (as JSON text) replaced. */
  static String replace(String json, String member, String newValueJson) {
    Matcher m = Pattern.compile("(\"" + member + "\"\\s*:\\s*)(\"[^\"]*\"|[0-9]+)").matcher(json);
    assertThat(m.find()).as("member " + member + " in " + json).isTrue();
    return json.substring(0, m.start(2)) + newValueJson + json.substring(m.end(2));
  }

  /** The JSON text without one member. */
  static String remove(String json, String member) {
    String out = json.replaceAll("\\s*\"" + member + "\"\\s*:\\s*(\"[^\"]*\"|[0-9]+)\\s*,", "");
    if (out.equals(json)) {
      out = json.replaceAll(",\\s*\"" + member + "\"\\s*:\\s*(\"[^\"]*\"|[0-9]+)\\s*", "");
    }
    assertThat(out).isNotEqualTo(json);
    return out;
  }

  static void assertReason(Throwable error, OtaException.Reason reason) {
    assertThat(error).isInstanceOf(OtaException.class);
    assertThat(((OtaException) error).reason()).as(error.getMessage()).isEqualTo(reason);
  }
}
