package io.otaflux.transport;

import java.security.GeneralSecurityException;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

import io.otaflux.OtaException;

import org.jspecify.annotations.Nullable;

/**
 * The trust rules of {@link HttpsFirmwareSource} (anchors, pins on the chain PKIX built, dates) as
 * a JDK {@link SSLContext}, for clients built on the JDK's {@code java.net.http.HttpClient} (the
 * hawkBit DDI client, say), which checks the host name itself.
 */
public final class JdkTls {

  private JdkTls() {
  }

  /**
   * A client context trusting {@code anchors}, requiring one of {@code pins} when any are given,
   * and presenting the key of {@code keys} for mutual TLS when given.
   *
   * @param anchors the trust anchors
   * @param pins SPKI pins, any one of which must appear in the validated chain; empty for none
   * @param keys key managers holding the client key and chain, or null for no client certificate
   * @return the context
   * @throws OtaException reason {@code USAGE} when the JDK cannot build it
   */
  public static SSLContext sslContext(TrustAnchors anchors, Collection<SpkiPin> pins, KeyManager @Nullable [] keys) {
    Objects.requireNonNull(anchors, "anchors");
    Objects.requireNonNull(pins, "pins");
    try {
      AnchoredTrustManager trust = AnchoredTrustManager.create(anchors, pins.isEmpty() ? null : Set.copyOf(pins));
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, new TrustManager[] {trust}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw OtaException.of(OtaException.Detail.INVALID_REQUEST, "Cannot set up TLS with " + anchors + ": "
          + e.getMessage(), e);
    }
  }
}
