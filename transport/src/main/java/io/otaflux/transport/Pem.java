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

import io.otaflux.OtaException;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;
import org.jspecify.annotations.Nullable;

/** Certificates to and from PEM text, and from the C header the original {@code get_cert} wrote. */
final class Pem {

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

  /**
   * The text of the C string literals in {@code header}, in order (adjacent literals joined as C
   * joins them, statements apart by a line break). One pass, no regular expression: a
   * {@code java.util.regex} alternation in a repeated group recurses per character and overflowed
   * the stack on a certificate written as one long literal. Comments and character literals are
   * skipped; an unclosed literal ends at the end of the text.
   */
  static String fromCString(String header) {
    StringBuilder out = new StringBuilder(header.length());
    int n = header.length();
    int i = 0;
    while (i < n) {
      char c = header.charAt(i);
      if (c == '/' && i + 1 < n && header.charAt(i + 1) == '/') {
        int end = header.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '/' && i + 1 < n && header.charAt(i + 1) == '*') {
        int end = header.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '"' || c == '\'') {
        i = literal(header, i + 1, c, c == '"' ? out : null);
      } else {
        if (c == ';') {
          out.append('\n');
        }
        i++;
      }
    }
    return out.toString();
  }

  /** Reads a literal from {@code i} (after its opening quote) to its closing one; returns the index after it. */
  private static int literal(String text, int from, char quote, @Nullable StringBuilder out) {
    int n = text.length();
    int i = from;
    while (i < n) {
      char c = text.charAt(i++);
      if (c == quote) {
        return i;
      }
      if (c == '\n') {
        return i; // a C literal does not span lines: treat the line end as its end
      }
      if (c == '\\' && i < n) {
        char e = text.charAt(i++);
        if (e == '\n' || e == '\r') {
          continue; // line continuation inside a literal
        }
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        if (e == 'r') {
          continue;
        }
      }
      if (out != null) {
        out.append(c);
      }
    }
    return n;
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
