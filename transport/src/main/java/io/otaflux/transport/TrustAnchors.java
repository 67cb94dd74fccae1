package io.otaflux.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

import io.otaflux.OtaException;

/**
 * The certificates a server's chain must lead to: root CAs, or intermediates (what the original
 * {@code get_cert} often saved), several at once so that a CA can rotate. Without any, the JDK's
 * default trust store is used ({@link #jdkDefault()}).
 *
 * <p>An anchor is trusted as given: its own validity dates do not stop a connection (as RFC 5280
 * and browsers do), but an anchor past its {@code notAfter} is reported in
 * {@link io.otaflux.spi.ImageDownload#warnings()}. Every certificate below the anchor must be in
 * its dates.
 *
 * <p>Immutable.
 */
public final class TrustAnchors {

  private static final TrustAnchors JDK_DEFAULT = new TrustAnchors(List.of(), "the JDK's default trust store");

  private final List<X509Certificate> certificates;
  private final String description;

  private TrustAnchors(List<X509Certificate> certificates, String description) {
    this.certificates = certificates;
    this.description = description;
  }

  /**
   * The CAs the JDK trusts by default ({@code cacerts}).
   *
   * @return the default anchors
   */
  public static TrustAnchors jdkDefault() {
    return JDK_DEFAULT;
  }

  /**
   * The certificates in PEM text: one or many {@code -----BEGIN CERTIFICATE-----} blocks (text
   * around them is ignored), or the C header the original {@code get_cert} wrote
   * ({@code const char* root_cert = ...}).
   *
   * @param pem the text
   * @return the anchors
   * @throws OtaException reason {@code USAGE} when the text holds no certificate or a broken one
   */
  public static TrustAnchors fromPem(String pem) {
    Objects.requireNonNull(pem, "pem");
    List<X509Certificate> parsed = Pem.certificates(pem, "the given PEM text");
    return new TrustAnchors(List.copyOf(parsed), describe(parsed));
  }

  /**
   * The certificates in a PEM file (or a C header, as {@link #fromPem(String)}).
   *
   * <p><b>Threading:</b> reads the file on the calling thread.
   *
   * @param file the file
   * @return the anchors
   * @throws OtaException reason {@code USAGE} when the file cannot be read or holds no certificate
   */
  public static TrustAnchors fromPemFile(Path file) {
    Objects.requireNonNull(file, "file");
    String text;
    try {
      // Latin-1 never fails to decode; only the ASCII PEM blocks matter
      text = Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw OtaException.of(OtaException.Reason.USAGE, "The certificate file " + file + " cannot be read ("
          + e.getMessage() + ").", e);
    }
    List<X509Certificate> parsed = Pem.certificates(text, file.toString());
    return new TrustAnchors(List.copyOf(parsed), describe(parsed));
  }

  /**
   * These certificates.
   *
   * @param certificates one or more CA certificates
   * @return the anchors
   * @throws OtaException reason {@code USAGE} when none is given
   */
  public static TrustAnchors of(Collection<X509Certificate> certificates) {
    Objects.requireNonNull(certificates, "certificates");
    if (certificates.isEmpty()) {
      throw OtaException.of(OtaException.Reason.USAGE, "Give at least one trust anchor, or use the JDK's default ones.");
    }
    List<X509Certificate> copy = List.copyOf(certificates);
    return new TrustAnchors(copy, describe(copy));
  }

  /**
   * These anchors and {@code other}'s (an old and a new root during a rotation, say). Combining
   * with the JDK default anchors is not possible: list the CAs instead.
   *
   * @param other more anchors
   * @return the union
   * @throws OtaException reason {@code USAGE} when either side is the JDK default
   */
  public TrustAnchors and(TrustAnchors other) {
    Objects.requireNonNull(other, "other");
    if (isJdkDefault() || other.isJdkDefault()) {
      throw OtaException.of(OtaException.Reason.USAGE,
          "The JDK's default trust store cannot be combined with given anchors; list the CAs you trust instead.");
    }
    List<X509Certificate> all = new ArrayList<>(certificates);
    for (X509Certificate c : other.certificates) {
      if (!all.contains(c)) {
        all.add(c);
      }
    }
    return new TrustAnchors(List.copyOf(all), describe(all));
  }

  /**
   * Whether these are the JDK's default anchors.
   *
   * @return true for {@link #jdkDefault()}
   */
  public boolean isJdkDefault() {
    return certificates.isEmpty();
  }

  /**
   * The given anchor certificates; empty for {@link #jdkDefault()}.
   *
   * @return the certificates
   */
  public List<X509Certificate> certificates() {
    return certificates;
  }

  @Override
  public String toString() {
    return "TrustAnchors[" + description + "]";
  }

  String description() {
    return description;
  }

  private static String describe(List<X509Certificate> certificates) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < certificates.size() && i < 3; i++) {
      sb.append(i == 0 ? "" : ", ").append('"').append(certificates.get(i).getSubjectX500Principal().getName())
          .append('"');
    }
    if (certificates.size() > 3) {
      sb.append(" and ").append(certificates.size() - 3).append(" more");
    }
    return sb.toString();
  }
}
