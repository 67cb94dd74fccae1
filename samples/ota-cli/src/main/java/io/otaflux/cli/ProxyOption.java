package io.otaflux.cli;

import java.util.Map;
import java.util.Optional;

import io.otaflux.transport.CertificateFetcher;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.JdkProxy;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Option;

/** {@code --proxy URL}, else the proxy the environment names, as curl reads it. */
final class ProxyOption {

  @Option(names = "--proxy", paramLabel = "URL",
      description = "HTTPS through this HTTP proxy (http://[user:pass@]host:port, CONNECT); \"\" for none."
          + " Default: https_proxy / HTTPS_PROXY. no_proxy / NO_PROXY is honoured either way.")
  @Nullable String proxy;

  HttpsFirmwareSource apply(HttpsFirmwareSource source) {
    String given = proxy;
    if (given == null) {
      return source.proxyFromEnvironment();
    }
    return given.isBlank() ? source : source.proxy(given, noProxy(System.getenv()));
  }

  CertificateFetcher apply(CertificateFetcher fetcher) {
    String given = proxy;
    if (given == null) {
      return fetcher.proxyFromEnvironment();
    }
    return given.isBlank() ? fetcher : fetcher.proxy(given, noProxy(System.getenv()));
  }

  /** The same proxy for a client on the JDK's HttpClient; empty for a direct connection. */
  Optional<JdkProxy> jdk() {
    String given = proxy;
    if (given == null) {
      return JdkProxy.fromEnvironment();
    }
    return given.isBlank() ? Optional.empty() : Optional.of(JdkProxy.of(given, noProxy(System.getenv())));
  }

  /** curl honours no_proxy for a proxy given on the command line too ({@code --proxy ""}: no proxy at all). */
  static @Nullable String noProxy(Map<String, String> env) {
    String noProxy = env.get("no_proxy");
    return noProxy == null || noProxy.isBlank() ? env.get("NO_PROXY") : noProxy;
  }
}
