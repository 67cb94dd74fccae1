package io.otaflux.transport;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

import org.jspecify.annotations.Nullable;

import reactor.netty.http.client.HttpClient;
import reactor.netty.transport.ProxyProvider;

/**
 * An HTTP proxy that HTTPS goes through by {@code CONNECT}, and the hosts that bypass it, read as
 * curl reads {@code https_proxy} and {@code no_proxy}. The TLS session is between this device and
 * the origin, inside the tunnel: trust, pins and the host name are checked as without a proxy.
 * The proxy's credentials are kept out of {@link #toString()} and every sentence.
 */
final class ProxyRoute {

  /** curl's default proxy port. */
  private static final int DEFAULT_PORT = 1080;

  private final String host;
  private final int port;
  private final @Nullable String user;
  private final @Nullable String password;
  private final List<String> noProxy;

  private ProxyRoute(String host, int port, @Nullable String user, @Nullable String password, List<String> noProxy) {
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.noProxy = noProxy;
  }

  /**
   * The proxy {@code url} ({@code [http://][user:pass@]host[:port]}, port 1080 when not given, as
   * curl) with the bypass list {@code noProxy} (curl's {@code no_proxy} syntax; null or blank: none).
   */
  static ProxyRoute parse(String url, @Nullable String noProxy) {
    String text = url.strip();
    String shown = io.otaflux.internal.Redaction.url(text.contains("://") ? text : "http://" + text);
    URI uri;
    try {
      uri = new URI(text.contains("://") ? text : "http://" + text);
    } catch (URISyntaxException e) {
      throw OtaException.of(Reason.USAGE, "The proxy \"" + shown + "\" is not a URL; give http://host:port.");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!"http".equals(scheme)) {
      throw OtaException.of(Reason.USAGE, "Only http:// proxies (HTTP CONNECT) are supported, not \"" + shown
          + "\"; give http://host:port.");
    }
    String h = uri.getHost();
    if (h == null || h.isEmpty()) {
      throw OtaException.of(Reason.USAGE, "The proxy \"" + shown + "\" names no host; give http://host:port.");
    }
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    String u = null;
    String p = null;
    String info = uri.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      u = decode(colon < 0 ? info : info.substring(0, colon));
      p = colon < 0 ? "" : decode(info.substring(colon + 1));
    }
    return new ProxyRoute(h, uri.getPort() >= 0 ? uri.getPort() : DEFAULT_PORT, u, p, entries(noProxy));
  }

  /**
   * What curl would use for an https URL with {@code env}: {@code https_proxy}, else
   * {@code HTTPS_PROXY}, else {@code all_proxy} / {@code ALL_PROXY}; {@code no_proxy}, else
   * {@code NO_PROXY}. Null when no proxy is set (an empty value counts as not set).
   */
  static @Nullable ProxyRoute fromEnvironment(Map<String, String> env) {
    String proxy = first(env, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY");
    if (proxy == null) {
      return null;
    }
    return parse(proxy, noProxyFrom(env));
  }

  /** The {@code no_proxy} list of {@code env}, the lower-case name first. */
  static @Nullable String noProxyFrom(Map<String, String> env) {
    return first(env, "no_proxy", "NO_PROXY");
  }

  private static @Nullable String first(Map<String, String> env, String... names) {
    for (String name : names) {
      String v = env.get(name);
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static List<String> entries(@Nullable String noProxy) {
    List<String> out = new ArrayList<>();
    if (noProxy == null) {
      return List.copyOf(out);
    }
    for (String raw : noProxy.split("[,\\s]+")) {
      String e = raw.strip().toLowerCase(Locale.ROOT);
      if (!e.isEmpty()) {
        out.add(e);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether a connection to {@code host:port} goes around the proxy, as curl decides it: {@code *}
   * matches every host; an entry matches the host itself and, for names, every subdomain (with or
   * without a leading dot); an IP address matches that address; {@code host:port} matches that
   * port only; all case-insensitive, IPv6 with or without brackets.
   */
  boolean bypasses(String host, int port) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    for (String entry : noProxy) {
      if ("*".equals(entry)) {
        return true;
      }
      String name = entry;
      int wantPort = -1;
      if (name.startsWith("[")) {
        int close = name.indexOf(']');
        if (close > 0) {
          String rest = name.substring(close + 1);
          name = name.substring(1, close);
          if (rest.startsWith(":")) {
            wantPort = portOf(rest.substring(1));
          }
        }
      } else if (name.indexOf(':') == name.lastIndexOf(':') && name.indexOf(':') > 0) {
        // one colon: host:port (an IPv6 address has more than one)
        int colon = name.indexOf(':');
        wantPort = portOf(name.substring(colon + 1));
        name = name.substring(0, colon);
      }
      if (wantPort == -2 || (wantPort >= 0 && wantPort != port)) {
        continue;
      }
      if (name.startsWith(".")) {
        name = name.substring(1);
      }
      if (name.endsWith(".")) {
        name = name.substring(0, name.length() - 1);
      }
      if (name.isEmpty()) {
        continue;
      }
      if (h.equals(name) || (!isIp(name) && h.endsWith("." + name))) {
        return true;
      }
    }
    return false;
  }

  private static int portOf(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -2;
    }
  }

  private static boolean isIp(String name) {
    return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
  }

  /** Whether {@code uri} goes through this proxy. */
  boolean proxies(URI uri) {
    return uri.getHost() != null && !bypasses(uri.getHost(), Failures.port(uri));
  }

  /** {@code host:port} of the proxy, never its credentials. */
  String where() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** The proxy's address, unresolved (resolved when connecting, as for the origin). */
  InetSocketAddress address() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  /** The user and password of the proxy's URL. */
  java.util.Optional<java.net.PasswordAuthentication> credentials() {
    String u = user;
    String p = password;
    return u == null ? java.util.Optional.empty()
        : java.util.Optional.of(new java.net.PasswordAuthentication(u, (p == null ? "" : p).toCharArray()));
  }

  boolean hasCredentials() {
    return user != null;
  }

  /** {@code client}, tunnelling through this proxy except for the bypassed hosts. */
  HttpClient on(HttpClient client, long connectTimeoutMillis) {
    return client.proxy(spec -> {
      ProxyProvider.Builder b = spec.type(ProxyProvider.Proxy.HTTP)
          .host(host).port(port)
          .connectTimeoutMillis(connectTimeoutMillis)
          .nonProxyHostsPredicate(this::bypasses);
      String u = user;
      String p = password;
      if (u != null) {
        b.username(u).password(name -> p == null ? "" : p);
      }
    });
  }

  private boolean bypasses(SocketAddress address) {
    if (address instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) address;
      return bypasses(a.getHostString(), a.getPort());
    }
    return false;
  }

  @Override
  public String toString() {
    return "proxy " + where() + (user != null ? " (with credentials)" : "")
        + (noProxy.isEmpty() ? "" : ", not for " + String.join(",", noProxy));
  }
}
