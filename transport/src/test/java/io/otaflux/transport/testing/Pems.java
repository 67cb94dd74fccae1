package io.otaflux.transport.testing;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** PEM text of test certificates. */
public final class Pems {

  private Pems() {
  }

  /**
   * A private key as PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}), as {@code openssl} writes it.
   *
   * @param key the key
   * @return the PEM text
   */
  public static String of(java.security.PrivateKey key) {
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  /**
   * The certificates as concatenated PEM blocks.
   *
   * @param certificates the certificates
   * @return the PEM text
   */
  public static String of(X509Certificate... certificates) {
    StringBuilder out = new StringBuilder();
    for (X509Certificate c : certificates) {
      try {
        out.append("-----BEGIN CERTIFICATE-----\n")
            .append(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString();
  }
}
