package io.otaflux.cli;

import java.util.Map;

import io.otaflux.transport.HttpsFirmwareSource;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Option;

/** {@code --proxy URL}, else the proxy the environment names, as curl reads it. */
final class ProxyOption {

  @Option(names = "--proxy", paramLabel = "URL",
      description = "HTTPS through this HTTP proxy (http://[user:pass@]host:port, CONNECT); \"\" for none."
          + " Default: https_proxy / HTTPS_PROXY. no_proxy / NO_PROXY is honoured either way.")
  @Nullable String proxy;

  HttpsFirmwareSource apply(HttpsFirmwareSource source) {
    return apply(source, System.getenv());
  }

  HttpsFirmwareSource apply(HttpsFirmwareSource source, Map<String, String> env) {
    String given = proxy;
    if (given == null) {
      return source.proxyFromEnvironment();
    }
    if (given.isBlank()) {
      return source; // curl's -x "": no proxy at all
    }
    // curl honours no_proxy for a proxy given on the command line too
    String noProxy = env.get("no_proxy");
    if (noProxy == null || noProxy.isBlank()) {
      noProxy = env.get("NO_PROXY");
    }
    return source.proxy(given, noProxy);
  }
}
