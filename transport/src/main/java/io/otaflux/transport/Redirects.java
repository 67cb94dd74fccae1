package io.otaflux.transport;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.otaflux.OtaException;
import io.otaflux.internal.Origin;
import io.otaflux.internal.Redaction;

/**
 * The redirects of one request, followed by hand: https only, a bounded number of hops, loops
 * refused. Not thread-safe: one request's hops run one after the other.
 */
final class Redirects {

  private final int max;
  private final List<URI> visited = new ArrayList<>();

  Redirects(URI start, int max) {
    this.max = max;
    visited.add(start);
  }

  static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  /** Where {@code location} (from an answer for {@code current}) leads, if it may be followed. */
  URI next(URI current, String location) {
    URI target;
    try {
      target = Redaction.withoutUserInfo(current.resolve(new URI(location.strip())));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw OtaException.of(OtaException.Detail.MALFORMED_RESPONSE, "The server redirected " + current + " to a malformed location ("
          + Redaction.url(location) + "); ask its operator.", e);
    }
    if (target.getScheme() == null || !"https".equals(target.getScheme().toLowerCase(Locale.ROOT))) {
      throw OtaException.of(OtaException.Detail.NON_HTTPS_REDIRECT, "The server redirected " + current + " to " + target
          + ", which is not https; only https redirects are followed, and nothing was sent there. Ask the server's"
          + " operator to redirect to https.");
    }
    if (target.getHost() == null) {
      throw OtaException.of(OtaException.Detail.MALFORMED_RESPONSE, "The server redirected " + current + " to " + target
          + ", which names no host; ask its operator.");
    }
    if (visited.contains(target)) {
      throw OtaException.of(OtaException.Detail.TOO_MANY_REDIRECTS, "The server's redirects loop (" + current + " leads back to " + target
          + "); ask its operator to fix them.");
    }
    if (visited.size() > max) {
      throw OtaException.of(OtaException.Detail.TOO_MANY_REDIRECTS, "The server redirected more than " + max + " times (last to " + target
          + "); ask its operator to fix the redirects, or use the final URL.");
    }
    visited.add(target);
    return target;
  }

  /** Whether credentials for {@code a} may go to {@code b}: the one rule of {@link Origin}. */
  static boolean sameOrigin(URI a, URI b) {
    return Origin.of(a).equals(Origin.of(b));
  }
}
