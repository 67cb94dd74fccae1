package io.otaflux.manifest;

import java.util.Locale;

import io.otaflux.OtaException;

/** The signature algorithms a manifest may use. */
public enum SignatureAlgorithm {
  /** Ed25519 (RFC 8032, pure): 64-byte signatures over the canonical bytes. The default. */
  ED25519("ed25519"),
  /**
   * ECDSA on NIST P-256 with SHA-256 (the JCA's {@code SHA256withECDSA}, OpenSSL's
   * {@code dgst -sha256 -sign}): DER-encoded {@code SEQUENCE {r, s}}.
   */
  ECDSA_P256_SHA256("ecdsa-p256-sha256");

  private final String label;

  SignatureAlgorithm(String label) {
    this.label = label;
  }

  /**
   * The name in a manifest's {@code algorithm} field.
   *
   * @return {@code ed25519} or {@code ecdsa-p256-sha256}
   */
  public String label() {
    return label;
  }

  /**
   * The algorithm with this manifest name.
   *
   * @param label {@code ed25519} or {@code ecdsa-p256-sha256}
   * @return the algorithm
   * @throws OtaException reason {@code USAGE} for any other name
   */
  public static SignatureAlgorithm ofLabel(String label) {
    for (SignatureAlgorithm a : values()) {
      if (a.label.equals(label.strip().toLowerCase(Locale.ROOT))) {
        return a;
      }
    }
    throw OtaException.of(OtaException.Reason.USAGE,
        "\"" + label + "\" is not a manifest signature algorithm; use ed25519 or ecdsa-p256-sha256.");
  }
}
