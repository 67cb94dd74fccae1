package io.otaflux.transport;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

import io.otaflux.OtaException;

/**
 * A public-key pin: the SHA-256 of a certificate's SubjectPublicKeyInfo, written
 * {@code sha256/BASE64} (as OkHttp's {@code CertificatePinner} and HPKP wrote it). A pin names a
 * key, not a certificate, so it survives a certificate renewed with the same key.
 *
 * <p>Compute one with {@code openssl x509 -in ca.pem -pubkey -noout | openssl pkey -pubin
 * -outform der | openssl dgst -sha256 -binary | base64}, or with {@link #of(X509Certificate)}.
 */
public final class SpkiPin {

  private static final String PREFIX = "sha256/";

  private final byte[] sha256;

  private SpkiPin(byte[] sha256) {
    this.sha256 = sha256;
  }

  /**
   * Parses {@code sha256/BASE64} (standard Base64 of 32 bytes; surrounding white space ignored).
   *
   * @param pin the pin text
   * @return the pin
   * @throws OtaException reason {@code USAGE} when the text is not such a pin
   */
  public static SpkiPin parse(String pin) {
    Objects.requireNonNull(pin, "pin");
    String text = pin.strip();
    if (!text.startsWith(PREFIX)) {
      throw OtaException.of(OtaException.Reason.USAGE, "A pin looks like sha256/BASE64 (the SHA-256 of a public key),"
          + " not \"" + abbreviate(text) + "\".");
    }
    byte[] digest;
    try {
      digest = Base64.getDecoder().decode(text.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw OtaException.of(OtaException.Reason.USAGE, "The pin \"" + abbreviate(text) + "\" is not valid Base64.", e);
    }
    if (digest.length != 32) {
      throw OtaException.of(OtaException.Reason.USAGE, "The pin \"" + abbreviate(text) + "\" holds " + digest.length
          + " bytes; a SHA-256 pin holds 32.");
    }
    return new SpkiPin(digest);
  }

  /**
   * The pin of a certificate's public key.
   *
   * @param certificate the certificate
   * @return its pin
   */
  public static SpkiPin of(X509Certificate certificate) {
    Objects.requireNonNull(certificate, "certificate");
    return of(certificate.getPublicKey());
  }

  /**
   * The pin of a public key.
   *
   * @param key the key (its encoded form is the SubjectPublicKeyInfo)
   * @return its pin
   */
  public static SpkiPin of(PublicKey key) {
    Objects.requireNonNull(key, "key");
    try {
      return new SpkiPin(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * Whether this pin names the key of {@code certificate}.
   *
   * @param certificate a certificate
   * @return true when its SubjectPublicKeyInfo has this digest
   */
  public boolean matches(X509Certificate certificate) {
    return equals(of(certificate));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SpkiPin && MessageDigest.isEqual(sha256, ((SpkiPin) o).sha256);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(sha256);
  }

  /**
   * The pin as {@code sha256/BASE64}.
   *
   * @return the text form
   */
  @Override
  public String toString() {
    return PREFIX + Base64.getEncoder().encodeToString(sha256);
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
