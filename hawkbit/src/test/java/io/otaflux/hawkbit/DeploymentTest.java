package io.otaflux.hawkbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Credentials;
import io.otaflux.OtaException;

import org.junit.jupiter.api.Test;

class DeploymentTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A deploymentBase as the real server answered it (outside its maintenance window). */
  private static final String ANSWER = "{\"id\":\"6\",\"deployment\":{\"download\":\"forced\",\"update\":\"skip\","
      + "\"chunks\":[{\"part\":\"os\",\"version\":\"1.0\",\"name\":\"fw-m1\",\"artifacts\":[{\"filename\":\"fw.bin\","
      + "\"hashes\":{\"sha1\":\"0a0e74c05be6e83ad24b6478f9af8503cf3abc17\",\"md5\":\"875aabce37db8cc36a008c9e6b106f37\","
      + "\"sha256\":\"2ad495a53c929ca90e28d1a31867d510915372d76d9c2d93923c3ced8fedc9fd\"},\"size\":1000,"
      + "\"_links\":{\"download-http\":{\"href\":\"https://localhost:18391/DEFAULT/controller/v1/m1/softwaremodules/6/"
      + "artifacts/fw.bin\"}}}]}],\"maintenanceWindow\":\"unavailable\"}}";

  @Test
  void readsTheImageItsHashAndTheWindow() throws Exception {
    Deployment d = Deployment.parse(JSON.readTree(ANSWER));
    assertThat(d.actionId()).isEqualTo(6);
    assertThat(d.download()).isEqualTo(HawkbitEvent.Handling.FORCED);
    assertThat(d.update()).isEqualTo(HawkbitEvent.Handling.SKIP);
    assertThat(d.maintenanceWindow()).isFalse();
    assertThat(d.mayInstallNow()).isFalse();
    assertThat(d.sha256().hex()).startsWith("2ad495a5");
    assertThat(d.size()).isEqualTo(1000);
    assertThat(d.version()).isEqualTo("1.0");
  }

  @Test
  void aDistributionSetWithoutExactlyOneImageIsRefusedWithASentence() throws Exception {
    String none = ANSWER.replaceAll("\"artifacts\":\\[.*\\]\\}\\]", "\"artifacts\":[]}]");
    assertThatThrownBy(() -> Deployment.parse(JSON.readTree(none)))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail())
            .isEqualTo(OtaException.Detail.INVALID_REQUEST))
        .hasMessageContaining("exactly one image");
  }

  @Test
  void aPlainHttpArtifactIsRefused() throws Exception {
    String http = ANSWER.replace("https://localhost", "http://localhost");
    assertThatThrownBy(() -> Deployment.parse(JSON.readTree(http)))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(OtaException.Detail.NOT_HTTPS));
  }

  @Test
  void theTokenGoesOnlyToTheServersOrigin() {
    DdiApi api = new DdiApi(java.net.http.HttpClient.newHttpClient(), URI.create("https://HawkBit.example.com"),
        "DEFAULT", "gw-1", Credentials.token("TargetToken", "secret"), java.time.Duration.ofSeconds(5), null, null);
    assertThat(api.credentialsFor(URI.create("https://hawkbit.example.com:443/DEFAULT/x/fw.bin"))).isPresent();
    assertThat(api.credentialsFor(URI.create("https://cdn.example.com/fw.bin"))).isEmpty();
    assertThat(api.credentialsFor(URI.create("https://hawkbit.example.com:8443/fw.bin"))).isEmpty();
    assertThat(api.base()).hasToString("https://HawkBit.example.com/DEFAULT/controller/v1/gw-1");
    assertThat(Credentials.token("TargetToken", "secret").toString()).doesNotContain("secret");
  }

  @Test
  void findsTheActionIdInALink() {
    assertThat(Controller.idIn(URI.create("https://h/DEFAULT/controller/v1/x/deploymentBase/42?c=-7"),
        "deploymentBase")).isEqualTo(42);
    assertThat(Controller.idIn(URI.create("https://h/DEFAULT/controller/v1/x/cancelAction/5"), "cancelAction"))
        .isEqualTo(5);
    assertThat(Controller.idIn(URI.create("https://h/DEFAULT/controller/v1/x/configData"), "cancelAction"))
        .isEqualTo(-1);
  }
}
