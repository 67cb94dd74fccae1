package io.otaflux.transport;

import java.io.IOException;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * The proxy rules of {@link HttpsFirmwareSource#proxy(String, String)} (an HTTP proxy reached by
 * {@code CONNECT}, {@code no_proxy} as curl reads it) as JDK types, for clients built on the JDK's
 * {@code java.net.http.HttpClient} (the hawkBit DDI client, say): a {@link ProxySelector} and the
 * proxy's credentials. {@link #toString()} never shows the credentials.
 */
public final class JdkProxy {

  private final ProxyRoute route;

  private JdkProxy(ProxyRoute route) {
    this.route = route;
  }

  /**
   * The proxy {@code proxy} ({@code http://[user:pass@]host[:port]}), bypassed for the hosts
   * {@code noProxy} lists; the same syntax as {@link HttpsFirmwareSource#proxy(String, String)}.
   *
   * @param proxy the proxy's URL
   * @param noProxy the hosts that go around it, or null
   * @return the proxy
   * @throws io.otaflux.OtaException reason {@code USAGE} when the URL is not an http:// proxy
   */
  public static JdkProxy of(String proxy, @Nullable String noProxy) {
    Objects.requireNonNull(proxy, "proxy");
    return new JdkProxy(ProxyRoute.parse(proxy, noProxy));
  }

  /**
   * The proxy the environment names as curl reads it for https URLs (see
   * {@link HttpsFirmwareSource#proxyFromEnvironment()}), if any.
   *
   * @return the proxy, or empty without such variables
   */
  public static Optional<JdkProxy> fromEnvironment() {
    return from(System.getenv());
  }

  static Optional<JdkProxy> from(Map<String, String> env) {
    return Optional.ofNullable(ProxyRoute.fromEnvironment(env)).map(JdkProxy::new);
  }

  /**
   * A selector choosing this proxy for every host {@code no_proxy} does not list, and a direct
   * connection for the others.
   *
   * @return the selector
   */
  public ProxySelector selector() {
    return new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        return List.of(route.proxies(uri) ? new Proxy(Proxy.Type.HTTP, route.address()) : Proxy.NO_PROXY);
      }

      @Override
      public void connectFailed(URI uri, SocketAddress address, IOException failure) {
        // one proxy, nothing to fall back to: the request's own failure says what happened
      }
    };
  }

  /**
   * The user and password in the proxy's URL, for {@code Proxy-Authorization} on the tunnel.
   *
   * @return the credentials, or empty when the URL has none
   */
  public Optional<PasswordAuthentication> credentials() {
    return route.credentials();
  }

  @Override
  public String toString() {
    return route.toString();
  }
}
