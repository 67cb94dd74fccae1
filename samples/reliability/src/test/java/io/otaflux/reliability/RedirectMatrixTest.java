package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.fails;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.otaflux.Credentials;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redirects and URLs: where the image is, who may see the credentials. */
class RedirectMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(200_000, 2);

  /** A fresh HTTPS server whose /fw.bin answers {@code status} to {@code target}'s /fw.bin. */
  private TestServer redirecting(int status, TestServer target) {
    return bench.https().route("/fw.bin", Routes.redirect(status, target.url("/fw.bin")));
  }

  @Test
  @DisplayName("redirect to plain http")
  @Case(category = "redirects", fault = "https URL answers 302 to an http:// URL", outcome = "POLICY (9); the http server receives nothing")
  void downgrade() {
    TestServer plain = bench.add(TestServer.plainHttp()).route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(redirecting(302, plain).url("/fw.bin")), 2, Reason.POLICY, "http:");
    assertThat(plain.requests()).isEmpty();
    assertThat(plain.connections()).isZero();
  }

  @Test
  @DisplayName("redirect loop")
  @Case(category = "redirects", fault = "a URL redirecting to itself", outcome = "SERVER (5), naming the redirects")
  void loop() {
    TestServer server = bench.https();
    server.route("/loop", Routes.redirect(302, server.url("/loop")));
    fails(bench.device(), UpdateRequest.of(server.url("/loop")), 2, Reason.SERVER, "redirect");
    assertThat(server.requests()).hasSizeLessThanOrEqualTo(11);
  }

  @Test
  @DisplayName("eleven redirects")
  @Case(category = "redirects", fault = "11 hops of 301/302/303/307/308 before the image", outcome = "SERVER (5) after hop 10; 10 hops are followed")
  void elevenHops() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    int[] codes = {301, 302, 303, 307, 308};
    for (int i = 0; i < 11; i++) {
      server.route("/hop" + i, Routes.redirect(codes[i % codes.length], server.url(i == 10 ? "/fw.bin" : "/hop" + (i + 1))));
    }
    fails(bench.device(), UpdateRequest.of(server.url("/hop0")), 0, Reason.SERVER, "redirect");
    List<UpdateEvent> events = Bench.succeeds(bench.device(), Bench.source(), UpdateRequest.of(server.url("/hop1")), 0);
    assertThat(events).filteredOn(UpdateEvent.Resolved.class::isInstance).first()
        .satisfies(r -> assertThat(((UpdateEvent.Resolved) r).effectiveUri().toString()).endsWith("/fw.bin"));
  }

  @Test
  @DisplayName("redirect without Location")
  @Case(category = "redirects", fault = "302 with no Location header", outcome = "SERVER (5)")
  void noLocation() {
    TestServer server = bench.https().route("/fw.bin", Routes.status(302, Map.of()));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.SERVER, "302");
  }

  @Test
  @DisplayName("redirect to a malformed URL")
  @Case(category = "redirects", fault = "Location: https://[broken", outcome = "SERVER (5)")
  void malformedLocation() {
    TestServer server = bench.https().route("/fw.bin", Routes.redirect(302, "https://[broken/fw.bin"));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")), 2, Reason.SERVER, "location");
  }

  @Test
  @DisplayName("cross-origin redirect with credentials")
  @Case(category = "redirects", fault = "basic auth given; 302 to another port that then asks for it (401)", outcome = "SERVER (5) saying the credentials were withheld; the other origin never sees them")
  void crossOrigin() {
    TestServer other = bench.https().route("/fw.bin", Routes.status(401, Map.of("WWW-Authenticate", "Basic")));
    TestServer server = redirecting(302, other);
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin"))
        .withCredentials(Credentials.basic("device", Sentence.PASSWORD)), 0, Reason.SERVER, "credentials", "401");
    assertThat(server.requests()).singleElement().satisfies(r -> assertThat(r.header("Authorization")).isNotNull());
    assertThat(other.requests()).isNotEmpty().allSatisfy(r -> assertThat(r.header("Authorization")).isNull());
  }

  @Test
  @DisplayName("bearer token on a cross-origin redirect")
  @Case(category = "redirects", fault = "bearer token given; 307 to another port serving the image", outcome = "installed; the other origin never sees the token")
  void crossOriginBearer() {
    TestServer other = bench.https().route("/fw.bin", Routes.image(image));
    TestServer server = redirecting(307, other);
    Bench.succeeds(bench.device(), Bench.source(), UpdateRequest.of(server.url("/fw.bin"))
        .withCredentials(Credentials.bearer(Sentence.TOKEN)), 0);
    assertThat(server.requests()).singleElement()
        .satisfies(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer " + Sentence.TOKEN));
    assertThat(other.requests()).isNotEmpty().allSatisfy(r -> assertThat(r.header("Authorization")).isNull());
  }

  @Test
  @DisplayName("password in the URL")
  @Case(category = "redirects", fault = "https://user:password@host/ URL answered 404", outcome = "SERVER (5); the sentence shows the URL without user-info")
  void userInfo() {
    TestServer server = bench.https();
    String url = server.url("/missing.bin").replace("https://", "https://device:" + Sentence.PASSWORD + "@");
    fails(bench.device(), UpdateRequest.of(url), 2, Reason.SERVER, "404", "/missing.bin");
  }

  @Test
  @DisplayName("http URL")
  @Case(category = "redirects", fault = "the request names an http:// URL", outcome = "USAGE (2), nothing sent")
  void httpUrl() {
    TestServer plain = bench.add(TestServer.plainHttp()).route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(plain.url("/fw.bin")), 2, Reason.USAGE, "https");
    assertThat(plain.connections()).isZero();
  }

  @Test
  @DisplayName("connection refused")
  @Case(category = "redirects", fault = "nothing listens on the URL's port", outcome = "NETWORK (4) after the retries")
  void refused() {
    fails(bench.device(), UpdateRequest.of("https://localhost:" + Bench.freePort() + "/fw.bin"), 1, Reason.NETWORK,
        "connect");
  }
}
