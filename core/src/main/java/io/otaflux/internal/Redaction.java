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
    String userInfo = uri.getRawUserInfo();
    String authority = uri.getRawAuthority();
    if (userInfo == null || authority == null) {
      return uri;
    }
    // cut the user-info out of the text: rebuilding from decoded parts would turn %2F into / and
    // %2B into +, another resource (issue 14 item 10)
    String text = uri.toString();
    int start = text.indexOf("//" + authority);
    if (start < 0) {
      throw new IllegalArgumentException("cannot find the authority of a URI that parsed: " + uri.getScheme() + "://"
          + uri.getHost());
    }
    int from = start + 2;
    String kept = text.substring(0, from) + authority.substring(userInfo.length() + 1)
        + text.substring(from + authority.length());
    try {
      return new URI(kept);
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
