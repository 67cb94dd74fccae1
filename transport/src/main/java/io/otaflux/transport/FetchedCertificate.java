package io.otaflux.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

/**
 * What {@link CertificateFetcher} found: the effective URL, the chain the server presented (read
 * without validating it: trust on first use), and the trust anchor chosen from it, ready to be
 * saved as PEM or as the original's C header.
 */
public final class FetchedCertificate {

  /** Where the anchor came from. */
  public enum AnchorSource {
    /** The server sent a self-signed root. */
    SENT_BY_SERVER,
    /** The issuer of the topmost presented certificate, found in the given PEM bundle. */
    GIVEN_TRUST_STORE,
    /** The issuer of the topmost presented certificate, found in the JDK's default trust store. */
    JDK_TRUST_STORE,
    /** No root was found: the topmost presented certificate itself (usually an intermediate). */
    TOPMOST_PRESENTED
  }

  private static final DateTimeFormatter OPENSSL_DATE =
      DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss yyyy 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter FETCH_DATE =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss 'UTC' yyyy", Locale.ENGLISH).withZone(ZoneOffset.UTC);

  private final URI effectiveUri;
  private final List<X509Certificate> presented;
  private final X509Certificate anchor;
  private final AnchorSource source;
  private final Instant fetchedAt;
  private final List<String> warnings;

  FetchedCertificate(URI effectiveUri, List<X509Certificate> presented, X509Certificate anchor, AnchorSource source,
      Instant fetchedAt, List<String> warnings) {
    this.effectiveUri = effectiveUri;
    this.presented = List.copyOf(presented);
    this.anchor = anchor;
    this.source = source;
    this.fetchedAt = fetchedAt;
    this.warnings = List.copyOf(warnings);
  }

  /**
   * The URL after redirects, without user-info.
   *
   * @return the effective URL
   */
  public URI effectiveUri() {
    return effectiveUri;
  }

  /**
   * The effective URL's host.
   *
   * @return the host name or address
   */
  public String host() {
    return effectiveUri.getHost();
  }

  /**
   * The chain the effective host presented, leaf first, as sent (not validated).
   *
   * @return the certificates
   */
  public List<X509Certificate> presentedChain() {
    return presented;
  }

  /**
   * The chosen trust anchor.
   *
   * @return the certificate to save
   */
  public X509Certificate anchor() {
    return anchor;
  }

  /**
   * Where the anchor came from.
   *
   * @return the source
   */
  public AnchorSource anchorSource() {
    return source;
  }

  /**
   * The anchor's subject (RFC 2253).
   *
   * @return the subject
   */
  public String subject() {
    return anchor.getSubjectX500Principal().getName();
  }

  /**
   * The anchor's issuer (RFC 2253); the subject again for a root.
   *
   * @return the issuer
   */
  public String issuer() {
    return anchor.getIssuerX500Principal().getName();
  }

  /**
   * The end of the anchor's validity.
   *
   * @return its notAfter
   */
  public Instant notAfter() {
    return anchor.getNotAfter().toInstant();
  }

  /**
   * The anchor key's pin, for {@code --pin}.
   *
   * @return {@code sha256/BASE64} of its SubjectPublicKeyInfo
   */
  public SpkiPin pin() {
    return SpkiPin.of(anchor);
  }

  /**
   * When the chain was read.
   *
   * @return the time
   */
  public Instant fetchedAt() {
    return fetchedAt;
  }

  /**
   * What a person must know: always that the chain was not validated (trust on first use); an
   * anchor that is not a root; an anchor expiring within 90 days or expired.
   *
   * @return the warnings
   */
  public List<String> warnings() {
    return warnings;
  }

  /**
   * The file name for this anchor: the host with dots (and anything not a letter, digit, dash or
   * underscore) replaced by underscores, and the format's extension.
   *
   * @param format the format
   * @return for example {@code raw_githubusercontent_com.h}
   */
  public String fileName(CertificateFormat format) {
    Objects.requireNonNull(format, "format");
    String host = host();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host.replaceAll("[^A-Za-z0-9_-]", "_") + "." + format.extension();
  }

  /**
   * The file's text: a comment header (host, date fetched, subject, issuer, notAfter, pin) and
   * the anchor as PEM or as a C string.
   *
   * @param format the format
   * @return the text
   */
  public String render(CertificateFormat format) {
    Objects.requireNonNull(format, "format");
    String pem = Pem.encode(anchor);
    String[] info = {
      "subject= " + comment(subject()),
      "issuer= " + comment(issuer()),
      "notAfter= " + OPENSSL_DATE.format(notAfter()),
      "pin= " + pin(),
    };
    StringBuilder out = new StringBuilder();
    if (format == CertificateFormat.PEM) {
      out.append("# Root certificate for ").append(comment(host())).append('\n')
          .append("# as obtained by ota get-cert on: ").append(FETCH_DATE.format(fetchedAt)).append('\n')
          .append("# (trust on first use: the chain was read without validating it; check the pin)\n")
          .append("#\n# Certificate info:\n");
      for (String line : info) {
        out.append("#     ").append(line).append('\n');
      }
      out.append("#\n").append(pem);
      return out.toString();
    }
    out.append("// This is the root certificate include file for ").append(comment(host())).append('\n')
        .append("// as obtained by ota get-cert on: ").append(FETCH_DATE.format(fetchedAt)).append('\n')
        .append("// (trust on first use: the chain was read without validating it; check the pin)\n")
        .append("//\n// Certificate info:\n");
    for (String line : info) {
      out.append("//     ").append(line).append('\n');
    }
    out.append("//\n\nconst char* root_cert = \\\n");
    String[] lines = pem.split("\n");
    for (int i = 0; i < lines.length; i++) {
      out.append("  \"").append(lines[i]).append("\\n\"").append(i == lines.length - 1 ? ";\n" : " \\\n");
    }
    return out.toString();
  }

  /**
   * Writes {@link #render(CertificateFormat)} to {@code dir/}{@link #fileName(CertificateFormat)},
   * creating the directory and replacing an older file.
   *
   * <p><b>Threading:</b> blocking file I/O on the calling thread.
   *
   * @param dir the directory
   * @param format the format
   * @return the file written
   * @throws OtaException reason {@code STORAGE} ({@link OtaException.Detail#IO_ERROR}) when the file
   *     cannot be written; the sentence blames permissions only for a permission error
   */
  public Path writeTo(Path dir, CertificateFormat format) {
    Objects.requireNonNull(dir, "dir");
    Path file = dir.resolve(fileName(format));
    try {
      Files.createDirectories(dir);
      // UTF-8: the comment header names the anchor, and names need not be ASCII (CN=Zürich Wurzel-CA);
      // the PEM body is ASCII either way
      Files.writeString(file, render(format), StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw writeFailure(dir, file, e);
    }
  }

  /** The sentence for a failed write, chosen by what failed: only a permission error blames permissions. */
  static OtaException writeFailure(Path dir, Path file, IOException e) {
    if (e instanceof AccessDeniedException) {
      return OtaException.of(OtaException.Detail.IO_ERROR, "The certificate could not be written to " + file
          + ": permission denied. Check the permissions of " + dir + ", or choose another directory with --out.", e);
    }
    if (e instanceof FileAlreadyExistsException || e instanceof NotDirectoryException) {
      return OtaException.of(OtaException.Detail.IO_ERROR, "The certificate could not be written to " + file + ": "
          + ((FileSystemException) e).getFile() + " exists and is not a directory. Choose another directory with --out.", e);
    }
    String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
      what = ((FileSystemException) e).getReason();
    }
    return OtaException.of(OtaException.Detail.IO_ERROR, "The certificate could not be written to " + file + " ("
        + what + "); nothing else was changed.", e);
  }

  @Override
  public String toString() {
    return "FetchedCertificate[" + effectiveUri + ", anchor=" + subject() + ", " + source + ", notAfter=" + notAfter()
        + ", " + pin() + "]";
  }

  /** Text safe inside a one-line comment: no line breaks, no trailing backslash joining lines in C. */
  private static String comment(String text) {
    return text.replaceAll("[\\p{Cntrl}]", " ").replace('\\', '/');
  }
}
