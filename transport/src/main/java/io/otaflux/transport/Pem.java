package io.otaflux.transport;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.OtaException;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;

/** Certificates to and from PEM text, and from the C header the original {@code get_cert} wrote. */
final class Pem {

  private static final Pattern C_STRING = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  private Pem() {
  }

  /**
   * Every certificate in the text, in order. Text around the PEM blocks is ignored; a C header
   * ({@code const char* root_cert = "-----BEGIN CERTIFICATE-----\n" ...}) is read too.
   */
  static List<X509Certificate> certificates(String text, String origin) {
    String pem = text.contains("\"-----BEGIN") ? fromCString(text) : text;
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object item;
      while ((item = parser.readObject()) != null) {
        if (item instanceof X509CertificateHolder) {
          certificates.add(converter.getCertificate((X509CertificateHolder) item));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw OtaException.of(OtaException.Reason.USAGE, "The certificate text in " + origin + " is not valid PEM ("
          + e.getMessage() + "); give the CA certificate as -----BEGIN CERTIFICATE----- ... text.", e);
    }
    if (certificates.isEmpty()) {
      throw OtaException.of(OtaException.Reason.USAGE, "There is no certificate in " + origin
          + "; give the CA certificate as -----BEGIN CERTIFICATE----- ... text.");
    }
    return certificates;
  }

  private static String fromCString(String header) {
    StringBuilder out = new StringBuilder();
    Matcher m = C_STRING.matcher(header);
    while (m.find()) {
      out.append(m.group(1).replace("\\n", "\n").replace("\\r", "").replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    return out.toString();
  }

  /** The certificate as a PEM block with 64-character lines, ending in a newline. */
  static String encode(X509Certificate certificate) {
    try {
      String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
          .encodeToString(certificate.getEncoded());
      return "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("a parsed certificate encodes", e);
    }
  }
}
