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
}
