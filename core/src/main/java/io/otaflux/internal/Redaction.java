package io.otaflux.internal;

import java.net.URI;
import java.net.URISyntaxException;

/** Keeps user-info out of everything a person or a log sees. */
public final class Redaction {

  private Redaction() {
  }

  /**
   * The URI without its user-info.
   *
   * @param uri any URI
   * @return the same URI with no user-info
   */
  public static URI withoutUserInfo(URI uri) {
    if (uri.getRawUserInfo() == null) {
      return uri;
    }
    try {
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getRawPath() == null ? null : uri.getPath(),
          uri.getQuery(), uri.getFragment());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("cannot rebuild a URI that parsed: " + uri.getScheme() + "://" + uri.getHost(), e);
    }
  }

  /**
   * The URI as text a person may see: no user-info.
   *
   * @param uri any URI
   * @return its text without user-info
   */
  public static String uri(URI uri) {
    return withoutUserInfo(uri).toString();
  }

  /**
   * A URL as text a person may see, even when it does not parse: anything between {@code //} and
   * {@code @} is replaced.
   *
   * @param url any text
   * @return the text without user-info
   */
  public static String url(String url) {
    return url.replaceAll("(?<=//)[^/@]*@", "***@");
  }
}
