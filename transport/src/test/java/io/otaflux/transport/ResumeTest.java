package io.otaflux.transport;

import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

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
class ResumeTest {

  @RegisterExtension
  final Servers servers = new Servers();

  private final byte[] image = Servers.image(300_000);
  private final HttpsFirmwareSource source = Servers.trustingRoot();

  private ImageDownload open(TestServer server, ResumeFrom from) {
    return source.open(UpdateRequest.of(server.url("/fw.bin")), from).block(TIMEOUT);
  }

  @Test
  void resumesWithRangeAndIfRangeAfterAConnectionCutAtAChosenByte() {
    Routes.Image route = Routes.image(image).cutFirstAt(123_456);
    TestServer server = servers.https().route("/fw.bin", route);

    ImageDownload first = open(server, ResumeFrom.start());
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    StepVerifier.create(first.body().map(FirmwareBytes::bytes).doOnNext(received::writeBytes))
        .thenConsumeWhile(b -> true)
        .expectErrorSatisfies(e -> {
          assertThat(otaFailure(e, Reason.NETWORK).isTransient()).isTrue();
        })
        .verify(TIMEOUT);
    assertThat(received.toByteArray()).isEqualTo(Arrays.copyOf(image, 123_456));

    ImageDownload rest = open(server, new ResumeFrom(123_456, first.validator()));
    assertThat(rest.offset()).isEqualTo(123_456);
    assertThat(rest.totalSize()).hasValue(image.length);
    assertThat(FirmwareBytes.readAll(rest)).isEqualTo(Arrays.copyOfRange(image, 123_456, image.length));
    TestServer.Recorded resumed = server.requests().get(1);
    assertThat(resumed.header("Range")).isEqualTo("bytes=123456-");
    assertThat(resumed.header("If-Range")).isEqualTo(route.etag()).isNotBlank();
  }

  @Test
  void usesLastModifiedAsTheValidatorWithoutAnEtag() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).withoutEtag());
    ImageDownload first = open(server, ResumeFrom.start());
    first.discard();
    assertThat(first.validator()).isEqualTo(Routes.LAST_MODIFIED);
    ImageDownload rest = open(server, new ResumeFrom(1000, first.validator()));
    assertThat(rest.offset()).isEqualTo(1000);
    rest.discard();
    assertThat(server.requests().get(1).header("If-Range")).isEqualTo(Routes.LAST_MODIFIED);
  }

  @Test
  void aWholeImageAnswerToARangedRequestStartsAtByteZero() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).ignoringRange());
    ImageDownload download = open(server, new ResumeFrom(200_000, "\"whatever\""));
    assertThat(download.offset()).isZero();
    assertThat(download.totalSize()).hasValue(image.length);
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(server.requests().get(0).header("Range")).isEqualTo("bytes=200000-");
  }

  @Test
  void aChangedImageIsSentWholeBecauseOfIfRange() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).etag("\"v2\""));
    ImageDownload download = open(server, new ResumeFrom(10_000, "\"v1\""));
    assertThat(download.offset()).isZero();
    assertThat(download.validator()).isEqualTo("\"v2\"");
    download.discard();
  }

  @Test
  void anUnsatisfiableRangeIsAskedAgainFromByteZero() {
    Routes.Image route = Routes.image(image);
    TestServer server = servers.https().route("/fw.bin", route);
    ImageDownload download = open(server, new ResumeFrom(image.length + 10, route.etag()));
    assertThat(download.offset()).isZero();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(server.requests()).extracting(r -> r.header("Range")).containsExactly("bytes=" + (image.length + 10) + "-", null);
  }

  @Test
  void withoutAValidatorTheWholeImageIsAskedFor() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    ImageDownload download = open(server, new ResumeFrom(5_000, null));
    assertThat(download.offset()).isZero();
    download.discard();
    assertThat(server.requests().get(0).header("Range")).isNull();
  }

  @Test
  void aChunkedBodyWithoutLengthHasNoTotalSize() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).withoutLength());
    ImageDownload download = open(server, ResumeFrom.start());
    assertThat(download.totalSize()).isEmpty();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }

  @Test
  void aContentRangeForOtherBytesIsAServerFailure() {
    TestServer server = servers.https().route("/fw.bin", (req, res, n) -> res.status(206)
        .header("Content-Range", "bytes 0-9/300000").header("Content-Length", "10")
        .sendString(reactor.core.publisher.Mono.just("0123456789")));
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), new ResumeFrom(100, "\"x\"")))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.SERVER).getMessage()).contains("Content-Range"))
        .verify(TIMEOUT);
  }

  @Test
  void aMalformedContentRangeIsAServerFailure() {
    TestServer server = servers.https().route("/fw.bin", (req, res, n) -> res.status(206)
        .header("Content-Range", "bytes lots").sendString(reactor.core.publisher.Mono.just("0123456789")));
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), new ResumeFrom(100, "\"x\"")))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.SERVER).getMessage()).contains("malformed"))
        .verify(TIMEOUT);
  }

  /** Answers like a server whose file changed to {@code other}: a 206 of it to a ranged request. */
  private static TestServer.Route changedAndIgnoringIfRange(byte[] other, String etag, boolean partialAlways) {
    return (req, res, n) -> {
      String range = req.requestHeaders().get("Range");
      res.header("ETag", etag).header("Accept-Ranges", "bytes");
      if (range != null || partialAlways) {
        int from = range == null ? 100 : Integer.parseInt(range.substring(6, range.length() - 1));
        return res.status(206).header("Content-Range", "bytes " + from + "-" + (other.length - 1) + "/" + other.length)
            .header("Content-Length", Integer.toString(other.length - from))
            .send(reactor.core.publisher.Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(other, from,
                other.length - from)));
      }
      return res.status(200).header("Content-Length", Integer.toString(other.length))
          .send(reactor.core.publisher.Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(other)));
    };
  }

  @Test
  void aPartialAnswerWithAnotherEtagThanIfRangeIsNeverUsedTheWholeImageIsAskedFor() {
    byte[] other = Servers.image(300_001);
    TestServer server = servers.https().route("/fw.bin", changedAndIgnoringIfRange(other, "\"v2\"", false));
    ImageDownload download = open(server, new ResumeFrom(100_000, "\"v1\""));
    assertThat(download.offset()).isZero();
    assertThat(download.validator()).isEqualTo("\"v2\"");
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(other);
    assertThat(server.requests()).extracting(r -> r.header("Range")).containsExactly("bytes=100000-", null);
    assertThat(server.requests().get(1).header("If-Range")).isNull();
  }

  @Test
  void aPartialAnswerWithoutAnyValidatorIsNeverUsed() {
    TestServer server = servers.https().route("/fw.bin", (req, res, n) -> req.requestHeaders().get("Range") != null
        ? res.status(206).header("Content-Range", "bytes 100-299999/300000").header("Content-Length", "299900")
            .send(reactor.core.publisher.Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(image, 100, 299_900)))
        : Routes.image(image).handle(req, res, n));
    ImageDownload download = open(server, new ResumeFrom(100, "\"v1\""));
    assertThat(download.offset()).isZero();
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
  }

  @Test
  void aServerAnsweringPartsEvenToAWholeImageRequestIsAnInconsistentResponse() {
    TestServer server = servers.https().route("/fw.bin", changedAndIgnoringIfRange(Servers.image(300_001), "\"v2\"",
        true));
    StepVerifier.create(source.open(UpdateRequest.of(server.url("/fw.bin")), new ResumeFrom(100, "\"v1\"")))
        .expectErrorSatisfies(e -> {
          io.otaflux.OtaException o = otaFailure(e, Reason.SERVER);
          assertThat(o.detail()).isEqualTo(io.otaflux.OtaException.Detail.INCONSISTENT_RESPONSE);
          assertThat(o.getMessage()).contains("inconsistent");
        })
        .verify(TIMEOUT);
  }

  @Test
  void aWeakEtagIsNeverSentInIfRangeSoTheResumeStartsOver() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).etag("W/\"weak-1\""));
    ImageDownload first = open(server, ResumeFrom.start());
    first.discard();
    assertThat(first.validator()).as("no validator a resume may use").isNull();
    // a journal holding a weak ETag (an older version) is not used either
    ImageDownload again = open(server, new ResumeFrom(1000, "W/\"weak-1\""));
    again.discard();
    assertThat(again.offset()).isZero();
    assertThat(server.requests().get(1).header("Range")).isNull();
    assertThat(server.requests().get(1).header("If-Range")).isNull();
  }

  @Test
  void aLastModifiedDateIsAValidatorOnlyWhenItIsAtLeastASecondBeforeTheAnswersDate() {
    io.netty.handler.codec.http.HttpHeaders headers = new io.netty.handler.codec.http.DefaultHttpHeaders()
        .set("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT");
    assertThat(ImageFetch.validator(headers)).as("no Date: weak").isNull();
    headers.set("Date", "Tue, 01 Dec 2026 10:00:00 GMT");
    assertThat(ImageFetch.validator(headers)).as("same second: weak").isNull();
    headers.set("Date", "Tue, 01 Dec 2026 10:00:01 GMT");
    assertThat(ImageFetch.validator(headers)).as("a second later: strong").isEqualTo("Tue, 01 Dec 2026 10:00:00 GMT");
    headers.set("ETag", "W/\"x\"");
    assertThat(ImageFetch.validator(headers)).as("a weak ETag forbids the date too").isNull();
    headers.set("ETag", "\"x\"");
    assertThat(ImageFetch.validator(headers)).isEqualTo("\"x\"");
  }
}
