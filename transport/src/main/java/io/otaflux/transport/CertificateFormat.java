package io.otaflux.transport;

/** How {@link FetchedCertificate#writeTo} saves an anchor. */
public enum CertificateFormat {

  /** A PEM file ({@code .pem}) with a {@code #} comment header; {@link TrustAnchors#fromPemFile} reads it. */
  PEM("pem"),

  /**
   * A C include file ({@code .h}) defining {@code const char* root_cert}, as the original
   * {@code get_cert} script wrote for {@code ez.wifi.update(url, root_cert, ...)}.
   */
  C_HEADER("h");

  private final String extension;

  CertificateFormat(String extension) {
    this.extension = extension;
  }

  /**
   * The file name extension, without the dot.
   *
   * @return {@code pem} or {@code h}
   */
  String extension() {
    return extension;
  }
}
