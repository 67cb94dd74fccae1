package io.otaflux.internal;

import java.net.URI;
import java.util.Locale;

import io.otaflux.UpdateRequest;

/**
 * Where credentials may go: a URI's scheme, host and effective port, the one same-origin rule of
 * redirects, manifests, delta files and hawkBit links. Schemes and hosts compare without case
 * (they are case-insensitive, RFC 3986 3.1 and 3.2.2), a missing port is the scheme's default
 * (443 for https, 80 for http), and user-info plays no part.
 *
 * @param scheme the lower-cased scheme, or empty
 * @param host the lower-cased host (an IPv6 literal with its brackets), or empty
 * @param port the effective port, or -1 for a scheme without a known default
 */
public record Origin(String scheme, String host, int port) {

  /**
   * The origin of {@code uri}.
   *
   * @param uri any URI
   * @return its origin
   */
  public static Origin of(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    String host = uri.getHost() != null ? uri.getHost() : registryAuthority(uri);
    int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
    return new Origin(scheme, host.toLowerCase(Locale.ROOT), port);
  }

  /** The authority of a URI whose host the JDK could not parse ({@code under_score.example}), minus user-info. */
  private static String registryAuthority(URI uri) {
    String authority = uri.getRawAuthority();
    if (authority == null) {
      return "";
    }
    return authority.substring(authority.lastIndexOf('@') + 1);
  }

  /**
   * {@code target}, carrying {@code from}'s credentials when it has none of its own and the two
   * have the same origin: credentials never go to another origin.
   *
   * @param from the request whose credentials may be carried (a manifest's, an image's)
   * @param target the request for another resource
   * @return {@code target}, with {@code from}'s credentials when they may go there
   */
  public static UpdateRequest carryCredentials(UpdateRequest from, UpdateRequest target) {
    if (target.credentials().isPresent() || from.credentials().isEmpty()
        || !of(from.uri()).equals(of(target.uri()))) {
      return target;
    }
    return target.withCredentials(from.credentials().get());
  }

  @Override
  public String toString() {
    return scheme + "://" + host + (port >= 0 ? ":" + port : "");
  }
}
