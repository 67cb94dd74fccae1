package io.otaflux.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import io.otaflux.OtaException;

import org.junit.jupiter.api.Test;

/** The proxy settings read as curl reads https_proxy and no_proxy; a pure unit, the environment injected. */
class ProxyRouteTest {

  private static ProxyRoute noProxy(String list) {
    return ProxyRoute.parse("http://proxy:3128", list);
  }

  @Test
  void readsTheLowerCaseVariablesFirstThenUpperThenAllProxy() {
    assertThat(ProxyRoute.fromEnvironment(Map.of())).isNull();
    assertThat(ProxyRoute.fromEnvironment(Map.of("http_proxy", "http://a:1"))).as("not for https URLs").isNull();
    assertThat(ProxyRoute.fromEnvironment(Map.of("https_proxy", "http://a:1", "HTTPS_PROXY", "http://b:2")).where())
        .isEqualTo("a:1");
    assertThat(ProxyRoute.fromEnvironment(Map.of("https_proxy", "", "HTTPS_PROXY", "http://b:2")).where())
        .as("empty counts as unset").isEqualTo("b:2");
    assertThat(ProxyRoute.fromEnvironment(Map.of("ALL_PROXY", "http://c:3")).where()).isEqualTo("c:3");
    ProxyRoute route = ProxyRoute.fromEnvironment(Map.of("https_proxy", "b:2", "NO_PROXY", "example.org"));
    assertThat(route.bypasses("example.org", 443)).isTrue();
    assertThat(ProxyRoute.fromEnvironment(Map.of("https_proxy", "b:2", "no_proxy", "a.org", "NO_PROXY", "b.org"))
        .bypasses("b.org", 443)).as("lower case wins").isFalse();
  }

  @Test
  void parsesTheProxyUrlAsCurlDoes() {
    assertThat(ProxyRoute.parse("proxy.lan", null).where()).as("no scheme: http, port 1080").isEqualTo("proxy.lan:1080");
    assertThat(ProxyRoute.parse("http://[::1]:3128", null).where()).isEqualTo("[::1]:3128");
    ProxyRoute withCredentials = ProxyRoute.parse("http://us%40er:p%3Ass@proxy:8080", null);
    assertThat(withCredentials.hasCredentials()).isTrue();
    assertThat(withCredentials.toString()).doesNotContain("p%3Ass").doesNotContain("p:ss").doesNotContain("us");
    assertThatThrownBy(() -> ProxyRoute.parse("socks5://u:secret@proxy:1080", null))
        .isInstanceOf(OtaException.class).hasMessageContaining("Only http:// proxies").hasMessageNotContaining("secret");
    assertThatThrownBy(() -> ProxyRoute.parse("u:secret@", null))
        .isInstanceOf(OtaException.class).hasMessageNotContaining("secret");
  }

  @Test
  void noProxyMatchesHostsAndTheirSubdomainsWithOrWithoutALeadingDot() {
    ProxyRoute route = noProxy("example.com, .internal.lan");
    assertThat(route.bypasses("example.com", 443)).isTrue();
    assertThat(route.bypasses("fw.example.com", 443)).isTrue();
    assertThat(route.bypasses("FW.Example.COM", 443)).as("case-insensitive").isTrue();
    assertThat(route.bypasses("badexample.com", 443)).as("a suffix is not a subdomain").isFalse();
    assertThat(route.bypasses("internal.lan", 443)).isTrue();
    assertThat(route.bypasses("a.b.internal.lan", 443)).isTrue();
    assertThat(route.bypasses("example.org", 443)).isFalse();
  }

  @Test
  void noProxyStarMatchesEveryHostAndAnEmptyListNone() {
    assertThat(noProxy("*").bypasses("anything.example", 443)).isTrue();
    assertThat(noProxy("").bypasses("localhost", 443)).isFalse();
    assertThat(ProxyRoute.parse("http://p:1", null).bypasses("localhost", 443)).isFalse();
  }

  @Test
  void noProxyMatchesIpAddressesExactlyAndHostPortOnThatPort() {
    ProxyRoute route = noProxy("10.0.0.7,[::1]:8443,fw.lan:8443, 192.168.1.1:443");
    assertThat(route.bypasses("10.0.0.7", 443)).isTrue();
    assertThat(route.bypasses("110.0.0.7", 443)).isFalse();
    assertThat(route.bypasses("1.10.0.0.7", 443)).as("no suffix match for addresses").isFalse();
    assertThat(route.bypasses("[::1]", 8443)).isTrue();
    assertThat(route.bypasses("::1", 443)).isFalse();
    assertThat(route.bypasses("fw.lan", 8443)).isTrue();
    assertThat(route.bypasses("fw.lan", 443)).isFalse();
    assertThat(route.bypasses("192.168.1.1", 443)).isTrue();
    assertThat(noProxy("::1").bypasses("::1", 443)).isTrue();
  }
}
