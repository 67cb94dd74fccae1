package io.otaflux.transport;

import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.openFails;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.test.StepVerifier;

@ExtendWith(NoLeaks.class)
class RedirectTest {

  @RegisterExtension
  final Servers servers = new Servers();

  private final byte[] image = Servers.image(30_000);
  private final HttpsFirmwareSource source = Servers.trustingRoot();

  @Test
  void followsRelativeAndCrossServerRedirectsAndReportsTheEffectiveUrl() {
    TestServer mirror = servers.https().route("/files/fw.bin", Routes.image(image));
    TestServer front = servers.https()
        .route("/latest", Routes.redirect(302, "/releases/fw.bin"))
        .route("/releases/fw.bin", Routes.redirect(301, mirror.url("/files/fw.bin")));
    ImageDownload download = source.open(UpdateRequest.of(front.url("/latest")), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download.effectiveUri()).isEqualTo(URI.create(mirror.url("/files/fw.bin")));
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(front.requests()).extracting(TestServer.Recorded::path).containsExactly("/latest", "/releases/fw.bin");
  }

  @Test
  void aRedirectToPlainHttpIsAPolicyFailureAndNothingIsSentThere() {
    TestServer plain = servers.plainHttp().route("/fw.bin", Routes.image(image));
    TestServer front = servers.https().route("/fw.bin", Routes.redirect(302, plain.url("/fw.bin")));
    StepVerifier.create(source.open(UpdateRequest.of(front.url("/fw.bin")).withCredentials(Credentials.bearer("tok")),
            ResumeFrom.start()))
        .expectErrorSatisfies(e -> {
          otaFailure(e, Reason.POLICY);
          assertThat(e.getMessage()).contains("not https").contains(plain.url("/fw.bin"));
        })
        .verify(TIMEOUT);
    assertThat(plain.connections()).as("connections to the plain http server").isZero();
    assertThat(plain.requests()).isEmpty();
  }

  @Test
  void aRedirectLoopIsAServerFailure() {
    TestServer server = servers.https()
        .route("/a", Routes.redirect(302, "/b"))
        .route("/b", Routes.redirect(307, "/a"));
    OtaException e = openFails(source, server.url("/a"), Reason.SERVER);
    assertThat(e.getMessage()).contains("loop");
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void moreRedirectsThanAllowedIsAServerFailure() {
    TestServer server = servers.https();
    for (int i = 0; i < 12; i++) {
      server.route("/hop" + i, Routes.redirect(302, "/hop" + (i + 1)));
    }
    server.route("/hop12", Routes.image(image));
    OtaException e = openFails(source, server.url("/hop0"), Reason.SERVER);
    assertThat(e.getMessage()).contains("more than 10");
    assertThat(server.requests()).hasSize(11);
  }

  @Test
  void tenRedirectsAreFollowed() {
    TestServer server = servers.https();
    for (int i = 0; i < 10; i++) {
      server.route("/hop" + i, Routes.redirect(308, "/hop" + (i + 1)));
    }
    server.route("/hop10", Routes.image(image));
    ImageDownload download = source.open(UpdateRequest.of(server.url("/hop0")), ResumeFrom.start()).block(TIMEOUT);
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }

  @Test
  void aRedirectWithoutLocationIsAServerFailure() {
    TestServer server = servers.https().route("/fw.bin", Routes.status(302, java.util.Map.of()));
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), ResumeFrom.start()))
        .expectErrorSatisfies(e -> otaFailure(e, Reason.SERVER))
        .verify(TIMEOUT);
  }

  @Test
  void basicCredentialsFromTheUrlGoToTheOriginOnlyNotToAnotherPort() {
    TestServer other = servers.https().route("/fw.bin", Routes.image(image));
    TestServer origin = servers.https().route("/fw.bin", Routes.redirect(302, other.url("/fw.bin")));
    String url = origin.url("/fw.bin").replace("https://", "https://alice:pa%3Ass@");
    ImageDownload download = source.open(UpdateRequest.of(url), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download.effectiveUri().getUserInfo()).isNull();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(origin.requests()).singleElement()
        .satisfies(r -> assertThat(r.header("Authorization")).isEqualTo(Credentials.basic("alice", "pa:ss").authorization()));
    assertThat(other.requests()).singleElement()
        .satisfies(r -> assertThat(r.header("Authorization")).as("credentials past a cross-origin redirect").isNull());
  }

  @Test
  void bearerTokenGoesToTheOriginAndNotToAnotherHost() {
    TestServer elsewhere = servers.https().route("/fw.bin", Routes.image(image));
    TestServer origin = servers.https().route("/fw.bin",
        Routes.redirect(302, elsewhere.url("/fw.bin").replace("localhost", "127.0.0.1")));
    ImageDownload download = source.open(UpdateRequest.of(origin.url("/fw.bin"))
        .withCredentials(Credentials.bearer("t0ken")), ResumeFrom.start()).block(TIMEOUT);
    download.discard();
    assertThat(origin.requests()).singleElement()
        .satisfies(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer t0ken"));
    assertThat(elsewhere.requests()).singleElement()
        .satisfies(r -> assertThat(r.header("Authorization")).isNull());
  }

  @Test
  void credentialsFollowARedirectWithinTheSameOrigin() {
    TestServer origin = servers.https()
        .route("/latest", Routes.redirect(302, "/fw.bin"))
        .route("/fw.bin", Routes.image(image));
    source.open(UpdateRequest.of(origin.url("/latest")).withCredentials(Credentials.bearer("t0ken")), ResumeFrom.start())
        .block(TIMEOUT).discard();
    assertThat(origin.requests()).extracting(r -> r.header("Authorization")).containsExactly("Bearer t0ken", "Bearer t0ken");
  }

  @Test
  void credentialsAreNotSentAgainAfterLeavingTheOrigin() {
    TestServer origin = servers.https();
    TestServer other = servers.https().route("/back", Routes.redirect(302, origin.url("/fw.bin")));
    origin.route("/start", Routes.redirect(302, other.url("/back"))).route("/fw.bin", Routes.image(image));
    source.open(UpdateRequest.of(origin.url("/start")).withCredentials(Credentials.bearer("t0ken")), ResumeFrom.start())
        .block(TIMEOUT).discard();
    assertThat(origin.requests()).extracting(r -> r.header("Authorization")).containsExactly("Bearer t0ken", null);
    assertThat(other.requests()).extracting(r -> r.header("Authorization")).containsOnlyNulls();
  }

  @Test
  void aRefusalAfterACrossOriginRedirectSaysTheCredentialsWereNotSent() {
    TestServer other = servers.https().route("/fw.bin", Routes.status(401, java.util.Map.of()));
    TestServer origin = servers.https().route("/fw.bin", Routes.redirect(302, other.url("/fw.bin")));
    StepVerifier.create(source.open(UpdateRequest.of(origin.url("/fw.bin")).withCredentials(Credentials.bearer("t0ken")),
            ResumeFrom.start()))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.SERVER).getMessage())
            .contains("HTTP 401 Unauthorized").contains("credentials were not sent").doesNotContain("t0ken"))
        .verify(TIMEOUT);
  }
}
