package io.otaflux.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.test.StepVerifier;

class WebStatusPageTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  private WebStatusServer page;

  @AfterEach
  void closePage() {
    if (page != null) {
      page.close();
    }
  }

  private WebStatusServer serve(Updates update) {
    page = WebStatusPage.create().title("gw-2.0.bin").serve(update.session).block(TIMEOUT);
    return page;
  }

  private HttpClient client() {
    return HttpClient.create().baseUrl("http://127.0.0.1:" + page.port());
  }

  private Mono<HttpResponseStatus> post(HttpClient client, String path) {
    return client.post().uri(path).response().map(r -> r.status());
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  @Test
  void bindsAnEphemeralPortOnTheLoopbackAddress() {
    serve(Updates.stalled());
    assertThat(page.port()).isPositive();
    assertThat(page.uri()).hasToString("http://127.0.0.1:" + page.port() + "/");
  }

  @Test
  void abortWithoutTheTokenIsForbiddenAndTheUpdateGoesOn() {
    Updates update = Updates.stalled();
    serve(update);
    update.session.start();

    StepVerifier.create(post(client(), "/abort")).expectNext(HttpResponseStatus.FORBIDDEN).expectComplete()
        .verify(TIMEOUT);
    StepVerifier.create(post(client().headers(h -> h.set(WebStatusPage.TOKEN_HEADER, "guess")), "/abort"))
        .expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    assertThat(parse(client().get().uri("/status.json").responseContent().aggregate().asString().block(TIMEOUT))
        .get("state").asText()).isEqualTo("running");
    assertEndsWithoutAbort(update);
  }

  /** Had a refused request aborted, the abort would be waiting: the update would end ABORTED. */
  private static void assertEndsWithoutAbort(Updates update) {
    Disposable clock = update.unstall();
    try {
      StepVerifier.create(update.session.result())
          .assertNext(r -> assertThat(r.sha256()).isEqualTo(update.digest()))
          .expectComplete()
          .verify(TIMEOUT);
    } finally {
      clock.dispose();
    }
  }

  @Test
  void abortFromAnotherOriginIsForbiddenEvenWithTheToken() {
    Updates update = Updates.stalled();
    serve(update);
    update.session.start();
    HttpClient withToken = client().headers(h -> h.set(WebStatusPage.TOKEN_HEADER, page.token()));

    StepVerifier.create(post(withToken.headers(h -> h.set(HttpHeaderNames.ORIGIN, "http://evil.example")),
        "/abort")).expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    StepVerifier.create(post(withToken.headers(h -> h.set("Sec-Fetch-Site", "cross-site")), "/abort"))
        .expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    StepVerifier.create(post(withToken.headers(h -> h.set(HttpHeaderNames.HOST, "evil.example:" + page.port())),
        "/abort")).expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    assertEndsWithoutAbort(update);
  }

  @Test
  void abortWithTheTokenFromThePageAbortsTheUpdate() {
    Updates update = Updates.stalled();
    serve(update);
    update.session.start();
    HttpClient sameOrigin = client().headers(h -> h.set(WebStatusPage.TOKEN_HEADER, page.token())
        .set(HttpHeaderNames.ORIGIN, "http://127.0.0.1:" + page.port()).set("Sec-Fetch-Site", "same-origin"));

    StepVerifier.create(post(sameOrigin, "/abort")).expectNext(HttpResponseStatus.ACCEPTED).expectComplete()
        .verify(TIMEOUT);
    StepVerifier.create(update.session.result())
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(Reason.ABORTED))
        .verify(TIMEOUT);
    StepVerifier.create(update.store.status())
        .assertNext(s -> {
          assertThat(s.active()).isEqualTo(SlotId.A);
          assertThat(s.next()).isEqualTo(SlotId.A);
        })
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void onPort80TheBrowsersHostAndOriginWithoutThePortAreTheSameOrigin() {
    Updates update = Updates.stalled();
    // bound to an ephemeral port, answering as the page of port 80 (what --web-ui 80 is to a browser)
    page = WebStatusPage.create().publicPort(80).serve(update.session).block(TIMEOUT);
    update.session.start();
    HttpClient browser = client().headers(h -> h.set(HttpHeaderNames.HOST, "127.0.0.1"));
    StepVerifier.create(browser.get().uri("/").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.OK).expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().headers(h -> h.set(HttpHeaderNames.HOST, "localhost:80")).get().uri("/status.json")
        .response().map(r -> r.status())).expectNext(HttpResponseStatus.OK).expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().headers(h -> h.set(HttpHeaderNames.HOST, "127.0.0.1:" + page.port())).get().uri("/")
        .response().map(r -> r.status())).expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    StepVerifier.create(post(browser.headers(h -> h.set(WebStatusPage.TOKEN_HEADER, page.token())
        .set(HttpHeaderNames.ORIGIN, "http://127.0.0.1:8080")), "/abort"))
        .expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    StepVerifier.create(post(browser.headers(h -> h.set(WebStatusPage.TOKEN_HEADER, page.token())
        .set(HttpHeaderNames.ORIGIN, "http://127.0.0.1").set("Sec-Fetch-Site", "same-origin")), "/abort"))
        .expectNext(HttpResponseStatus.ACCEPTED).expectComplete().verify(TIMEOUT);
    StepVerifier.create(update.session.result())
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(Reason.ABORTED))
        .verify(TIMEOUT);
  }

  @Test
  void aPageReallyOnPort80AnswersABrowsersPortlessHostAndOrigin() {
    // binds port 80: the tests run as root here and in CI
    Updates update = Updates.stalled();
    page = WebStatusPage.create().port(80).serve(update.session).block(TIMEOUT);
    assertThat(page.port()).isEqualTo(80);
    update.session.start();
    HttpClient browser = HttpClient.create().baseUrl("http://127.0.0.1").headers(h -> h.set(HttpHeaderNames.HOST,
        "127.0.0.1"));
    StepVerifier.create(browser.get().uri("/").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.OK).expectComplete().verify(TIMEOUT);
    StepVerifier.create(post(browser.headers(h -> h.set(WebStatusPage.TOKEN_HEADER, page.token())
        .set(HttpHeaderNames.ORIGIN, "http://127.0.0.1").set("Sec-Fetch-Site", "same-origin")), "/abort"))
        .expectNext(HttpResponseStatus.ACCEPTED).expectComplete().verify(TIMEOUT);
  }

  @Test
  void hostAndOriginPortsAreComparedWithTheDefaultPortNormalised() {
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1", 80)).isTrue();
    assertThat(WebStatusPage.isLocalAuthority("LOCALHOST:80", 80)).isTrue();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1", 8080)).isFalse();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1:8080", 8080)).isTrue();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1:", 80)).isFalse();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1:0080", 80)).isTrue();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1:99999999", 80)).isFalse();
    assertThat(WebStatusPage.isLocalAuthority("evil.example", 80)).isFalse();
    assertThat(WebStatusPage.isLocalAuthority("127.0.0.1.evil.example:80", 80)).isFalse();
  }

  @Test
  void aRequestForAnotherHostIsForbidden() {
    serve(Updates.stalled());
    StepVerifier.create(client().headers(h -> h.set(HttpHeaderNames.HOST, "rebound.example:" + page.port()))
        .get().uri("/").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.FORBIDDEN).expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().headers(h -> h.set(HttpHeaderNames.HOST, "localhost:" + page.port()))
        .get().uri("/").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.OK).expectComplete().verify(TIMEOUT);
  }

  @Test
  void thePageCarriesTheTokenAnEscapedTitleAndForbidsFramingAndInlineScript() {
    Updates update = Updates.stalled();
    page = WebStatusPage.create().title("<script>alert(1)</script> & co").serve(update.session).block(TIMEOUT);

    StepVerifier.create(client().get().uri("/").responseSingle((res, body) -> body.asString().map(html -> {
      assertThat(res.status()).isEqualTo(HttpResponseStatus.OK);
      assertThat(res.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/html; charset=utf-8");
      assertThat(res.responseHeaders().get("Content-Security-Policy")).contains("script-src 'self'")
          .contains("frame-ancestors 'none'");
      assertThat(res.responseHeaders().get("X-Frame-Options")).isEqualTo("DENY");
      assertThat(html).contains("<meta name=\"otaflux-token\" content=\"" + page.token() + "\">");
      assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co").doesNotContain("<script>alert");
      return html;
    }))).expectNextCount(1).expectComplete().verify(TIMEOUT);
  }

  @Test
  void eachServedPageHasItsOwnToken() {
    Updates one = Updates.stalled();
    Updates two = Updates.stalled();
    try (WebStatusServer first = WebStatusPage.create().serve(one.session).block(TIMEOUT);
        WebStatusServer second = WebStatusPage.create().serve(two.session).block(TIMEOUT)) {
      assertThat(first.token()).hasSize(43).isNotEqualTo(second.token());
    }
  }

  @Test
  void servesTheScriptAndStyleAndAnswersUnknownPathsAndMethods() {
    serve(Updates.stalled());
    StepVerifier.create(client().get().uri("/status.js").responseSingle((res, body) -> body.asString()
        .map(js -> res.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE) + "|" + js)))
        .assertNext(s -> assertThat(s).startsWith("text/javascript").contains("EventSource"))
        .expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().get().uri("/status.css").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.OK).expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().get().uri("/etc/passwd").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.NOT_FOUND).expectComplete().verify(TIMEOUT);
    StepVerifier.create(client().get().uri("/abort").response().map(r -> r.status()))
        .expectNext(HttpResponseStatus.METHOD_NOT_ALLOWED).expectComplete().verify(TIMEOUT);
  }

  @Test
  void theStatusJsonShowsTheCurrentViewFromWaitingToDone() {
    Updates update = Updates.fast(300 * 1024, 16 * 1024);
    serve(update);
    Mono<JsonNode> status = client().get().uri("/status.json")
        .responseSingle((res, body) -> {
          assertThat(res.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE))
              .isEqualTo("application/json; charset=utf-8");
          return body.asString();
        })
        .map(WebStatusPageTest::parse);

    StepVerifier.create(status)
        .assertNext(json -> {
          assertThat(json.get("state").asText()).isEqualTo("running");
          assertThat(json.get("message").asText()).isEqualTo("Waiting for the update to start.");
          assertThat(json.get("percent").isNull()).isTrue();
        })
        .expectComplete().verify(TIMEOUT);

    update.session.start();
    StepVerifier.create(update.session.result()).expectNextCount(1).expectComplete().verify(TIMEOUT);
    // the page's views trail the session by at most one hop of a scheduler: wait for them, don't sleep
    StepVerifier.create(status.repeatWhenEmpty(r -> r).filter(j -> j.get("final").asBoolean())
        .repeatWhenEmpty(10_000, r -> r))
        .assertNext(json -> {
          assertThat(json.get("state").asText()).isEqualTo("done");
          assertThat(json.get("percent").asInt()).isEqualTo(100);
          assertThat(json.get("slot").asText()).isEqualTo("b");
          assertThat(json.get("sha256").asText()).isEqualTo(update.digest().hex());
          assertThat(json.get("bytesText").asText()).isEqualTo("300.0 KiB of 300.0 KiB");
          assertThat(json.get("error").isNull()).isTrue();
        })
        .expectComplete().verify(TIMEOUT);
  }

  @Test
  void serverSentEventsDeliverEveryViewToTwoBrowsers() {
    Updates update = Updates.slow(256 * 1024, 16 * 1024, Duration.ofMillis(10));
    serve(update);
    Flux<JsonNode> first = events().replay().autoConnect(0);
    Flux<JsonNode> second = events().replay().autoConnect(0);
    // both are connected once each has had the waiting view
    for (Flux<JsonNode> browser : List.of(first, second)) {
      StepVerifier.create(browser.take(1))
          .assertNext(v -> assertThat(v.get("message").asText()).isEqualTo("Waiting for the update to start."))
          .expectComplete().verify(TIMEOUT);
    }

    update.session.start();

    for (Flux<JsonNode> browser : List.of(first, second)) {
      StepVerifier.create(browser.collectList())
          .assertNext(views -> {
            assertThat(views.size()).isGreaterThan(3);
            assertThat(views).anySatisfy(v -> {
              assertThat(v.get("state").asText()).isEqualTo("running");
              assertThat(v.get("percent").asInt()).isBetween(1, 99);
            });
            JsonNode last = views.get(views.size() - 1);
            assertThat(last.get("state").asText()).isEqualTo("done");
            assertThat(last.get("sha256").asText()).isEqualTo(update.digest().hex());
          })
          .expectComplete()
          .verify(TIMEOUT);
    }
  }

  @Test
  void aLateBrowserGetsTheFinalViewAndTheStreamEnds() {
    Updates update = Updates.failing(OtaException.of(Reason.TRUST, "The server's certificate is not trusted."));
    serve(update);
    update.session.start();
    StepVerifier.create(update.session.result()).expectError(OtaException.class).verify(TIMEOUT);

    StepVerifier.create(events().filter(v -> v.get("final").asBoolean()))
        .assertNext(v -> {
          assertThat(v.get("state").asText()).isEqualTo("failed");
          assertThat(v.get("error").asText()).isEqualTo("The server's certificate is not trusted.");
          assertThat(v.get("reason").asText()).isEqualTo("TRUST");
        })
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void closingThePageEndsOpenEventStreamsAndFreesThePort() {
    Updates update = Updates.stalled();
    serve(update);
    update.session.start();
    Flux<JsonNode> browser = events().replay().autoConnect(0);
    StepVerifier.create(browser.take(1)).expectNextCount(1).expectComplete().verify(TIMEOUT);

    long start = System.nanoTime();
    page.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no wait for the streams' timeout")
        .isLessThan(Duration.ofSeconds(2));
    StepVerifier.create(browser.then()).expectComplete().verify(TIMEOUT);
    assertThat(page.isDisposed()).isTrue();
    StepVerifier.create(client().get().uri("/status.json").response()).expectError().verify(TIMEOUT);
    update.session.abort();
  }

  /** The {@code data:} payloads of {@code GET /events}, one JSON view each. */
  private Flux<JsonNode> events() {
    return client().get().uri("/events")
        .response((res, body) -> {
          assertThat(res.status()).isEqualTo(HttpResponseStatus.OK);
          assertThat(res.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/event-stream");
          return body.asString(StandardCharsets.UTF_8);
        })
        .concatMapIterable(new Frames())
        .map(WebStatusPageTest::parse);
  }

  /** Joins the chunks of an event stream into events and keeps their data lines. */
  private static final class Frames implements java.util.function.Function<String, List<String>> {
    private final StringBuilder pending = new StringBuilder();

    @Override
    public List<String> apply(String chunk) {
      pending.append(chunk);
      List<String> data = new ArrayList<>();
      int end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        String frame = pending.substring(0, end);
        pending.delete(0, end + 2);
        frame.lines().filter(l -> l.startsWith("data: ")).forEach(l -> data.add(l.substring(6)));
      }
      return data;
    }
  }
}
