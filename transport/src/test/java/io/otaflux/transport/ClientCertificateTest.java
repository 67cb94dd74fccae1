package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.StaticFile;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import reactor.test.StepVerifier;

/** Mutual TLS: a server that requires a client certificate, against a device with one, without one, and with a stranger's. */
@ExtendWith(NoLeaks.class)
class ClientCertificateTest {

  private final byte[] image = Servers.image(300_000);
  private TestServer server;

  @TempDir
  Path dir;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private TestServer requiringClients(String tls) {
    server = TestServer.httpsRequiringClientCertificate(PKI.localhost(), PKI.root().certificate(), tls)
        .route("/fw.bin", StaticFile.of(image));
    return server;
  }

  private ClientKey device(TestPki.Identity identity) {
    identity.writePem(dir.resolve("device.crt"), dir.resolve("device.key"));
    return ClientKey.fromPemFiles(dir.resolve("device.crt"), dir.resolve("device.key"));
  }

  private static UpdateRequest fw(TestServer server) {
    return UpdateRequest.of(server.url("/fw.bin"));
  }

  private OtaException refused(HttpsFirmwareSource source, TestServer server) {
    OtaException[] failure = new OtaException[1];
    StepVerifier.create(source.open(fw(server), ResumeFrom.start()))
        .expectErrorSatisfies(e -> failure[0] = otaFailure(e, Reason.TRUST))
        .verify(TIMEOUT);
    assertThat(failure[0].isTransient()).as("trying again cannot help").isFalse();
    assertThat(server.requests()).as("no request reached the server").isEmpty();
    return failure[0];
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void presentsTheClientCertificateForTheImageAndForRangeRequests(String tls) {
    TestServer server = requiringClients(tls);
    HttpsFirmwareSource source = Servers.trustingRoot().clientKey(device(PKI.intermediate().client("gw-0042")));

    ImageDownload whole = source.open(fw(server), ResumeFrom.start()).block(TIMEOUT);
    assertThat(whole).isNotNull();
    assertThat(FirmwareBytes.readAll(whole)).isEqualTo(image);

    ImageDownload range = source.openRange(fw(server), 1000, 5000, null).block(TIMEOUT);
    assertThat(range).isNotNull();
    assertThat(FirmwareBytes.readAll(range)).isEqualTo(Arrays.copyOfRange(image, 1000, 6000));
    assertThat(server.requests()).hasSize(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aDeviceWithoutAClientCertificateIsToldTheServerRequiresOne(String tls) {
    TestServer server = requiringClients(tls);

    OtaException e = refused(Servers.trustingRoot(), server);

    assertThat(e.detail()).isEqualTo(Detail.CLIENT_CERT_REQUIRED);
    assertThat(e.getMessage()).startsWith("localhost:" + server.port() + " requires a client certificate (mutual TLS)")
        .contains("--client-cert");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aClientCertificateFromACaTheServerDoesNotTrustIsRefusedNamingIt(String tls) {
    TestServer server = requiringClients(tls);
    HttpsFirmwareSource source = Servers.trustingRoot().clientKey(device(PKI.unrelatedRoot().client("gw-0042")));

    OtaException e = refused(source, server);

    assertThat(e.detail()).isEqualTo(Detail.CLIENT_CERT_REFUSED);
    assertThat(e.getMessage()).startsWith("localhost:" + server.port() + " refused this device's client certificate")
        .contains("CN=gw-0042").contains("issued by CN=Unrelated Test Root");
  }

  @Test
  void aClientKeyChangesNothingWithAServerThatAsksForNone() {
    server = TestServer.https(PKI.localhost()).route("/fw.bin", StaticFile.of(image));
    HttpsFirmwareSource source = Servers.trustingRoot().clientKey(device(PKI.intermediate().client("gw-0042")));

    ImageDownload whole = source.open(fw(server), ResumeFrom.start()).block(TIMEOUT);

    assertThat(whole).isNotNull();
    assertThat(FirmwareBytes.readAll(whole)).isEqualTo(image);
  }

  @Test
  void aKeyThatDoesNotBelongToTheCertificateIsAUsageErrorNamingBothFiles() {
    PKI.intermediate().client("gw-0042").writePem(dir.resolve("device.crt"), dir.resolve("unused.key"));
    PKI.intermediate().client("gw-0043").writePem(dir.resolve("other.crt"), dir.resolve("other.key"));

    assertThatThrownBy(() -> ClientKey.fromPemFiles(dir.resolve("device.crt"), dir.resolve("other.key")))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(Detail.INVALID_REQUEST);
          assertThat(e.getMessage()).startsWith("The client certificate and key do not match")
              .contains(dir.resolve("other.key").toString()).contains(dir.resolve("device.crt").toString())
              .contains("CN=gw-0042");
        });
  }

  @Test
  void anUnreadableOrEmptyFileIsAUsageErrorThatNeverShowsTheKey() throws Exception {
    TestPki.Identity identity = PKI.intermediate().client("gw-0042");
    identity.writePem(dir.resolve("device.crt"), dir.resolve("device.key"));
    Files.writeString(dir.resolve("empty.key"), "no key here\n");

    assertThatThrownBy(() -> ClientKey.fromPemFiles(dir.resolve("device.crt"), dir.resolve("missing.key")))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage())
            .startsWith("The client key file " + dir.resolve("missing.key") + " cannot be read"));
    assertThatThrownBy(() -> ClientKey.fromPemFiles(dir.resolve("device.key"), dir.resolve("device.key")))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage())
            .startsWith("There is no valid certificate in the client certificate file"));
    assertThatThrownBy(() -> ClientKey.fromPemFiles(dir.resolve("device.crt"), dir.resolve("empty.key")))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(Detail.INVALID_REQUEST);
          assertThat(e.getMessage()).startsWith("There is no private key in " + dir.resolve("empty.key"));
        });
    String keyText = Files.readString(dir.resolve("device.key"));
    String body = keyText.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    ClientKey key = ClientKey.fromPemFiles(dir.resolve("device.crt"), dir.resolve("device.key"));
    assertThat(key.toString()).contains("CN=gw-0042").doesNotContain(body);
    assertThat(Servers.trustingRoot().clientKey(key).toString()).contains("CN=gw-0042").doesNotContain(body);
  }
}
