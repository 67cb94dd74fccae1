package io.otaflux.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JdkProxyTest {

  @Test
  void theSelectorTunnelsThroughTheProxyExceptForNoProxyHosts() {
    JdkProxy proxy = JdkProxy.of("http://gw:s3cret@proxy.example:3128", "localhost,.internal.example");

    List<Proxy> out = proxy.selector().select(URI.create("https://hawkbit.example.com/DEFAULT/controller/v1/gw"));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).type()).isEqualTo(Proxy.Type.HTTP);
    InetSocketAddress address = (InetSocketAddress) out.get(0).address();
    assertThat(address.getHostString()).isEqualTo("proxy.example");
    assertThat(address.getPort()).isEqualTo(3128);
    assertThat(proxy.selector().select(URI.create("https://localhost:8443/x"))).containsExactly(Proxy.NO_PROXY);
    assertThat(proxy.selector().select(URI.create("https://hb.internal.example/x"))).containsExactly(Proxy.NO_PROXY);
  }

  @Test
  void credentialsComeFromTheUrlAndNeverShowInItsText() {
    JdkProxy proxy = JdkProxy.of("http://gw:s3cret@proxy.example:3128", null);
    assertThat(proxy.credentials()).hasValueSatisfying(c -> {
      assertThat(c.getUserName()).isEqualTo("gw");
      assertThat(new String(c.getPassword())).isEqualTo("s3cret");
    });
    assertThat(proxy.toString()).contains("proxy.example:3128").doesNotContain("s3cret");
    assertThat(JdkProxy.of("http://proxy.example", null).credentials()).isEmpty();
  }

  @Test
  void theEnvironmentIsReadAsCurlReadsIt() {
    assertThat(JdkProxy.from(Map.of())).isEmpty();
    JdkProxy proxy = JdkProxy.from(Map.of("HTTPS_PROXY", "http://proxy.example:8080", "no_proxy", "*")).orElseThrow();
    assertThat(proxy.selector().select(URI.create("https://anywhere.example/"))).containsExactly(Proxy.NO_PROXY);
  }
}
