package io.otaflux.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;

import org.junit.jupiter.api.Test;

import reactor.test.StepVerifier;

/**
 * The behaviour every {@link FirmwareSource} keeps. An implementation's test extends this class
 * and says how to serve an image:
 *
 * <pre>{@code
 * class HttpsFirmwareSourceKitTest extends FirmwareSourceCompatibilityKit {
 *   protected Served serve(byte[] image) { ...start a server...; return new Served(source, request); }
 * }
 * }</pre>
 */
public abstract class FirmwareSourceCompatibilityKit {

  /** Every blocking call in the kit waits at most this long. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(10);

  /**
   * A source serving an image, and the request that names it.
   *
   * @param source the source
   * @param request the request for the image
   */
  public record Served(FirmwareSource source, UpdateRequest request) {
  }

  /**
   * Serves {@code image} (with its length and a validator) and says how to ask for it.
   *
   * @param image the bytes to serve
   * @return the source and the request
   */
  protected abstract Served serve(byte[] image);

  static byte[] image(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  static byte[] readAll(ImageDownload download) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    download.body().map(FirmwareSourceCompatibilityKit::bytes).doOnNext(out::writeBytes).blockLast(TIMEOUT);
    return out.toByteArray();
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.get(b);
    return b;
  }

  @Test
  void opensFromTheStartWithTheLengthAndAValidator() {
    byte[] image = image(200_000);
    Served served = serve(image);
    ImageDownload download = served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download.offset()).isZero();
    assertThat(download.totalSize()).hasValue(image.length);
    assertThat(download.validator()).isNotBlank();
    assertThat(download.effectiveUri().getUserInfo()).isNull();
    assertThat(readAll(download)).isEqualTo(image);
  }

  @Test
  void resumesFromAnOffsetWhenTheValidatorMatches() {
    byte[] image = image(150_000);
    Served served = serve(image);
    ImageDownload first = served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT);
    String validator = first.validator();
    first.discard();
    ImageDownload rest = served.source().open(served.request(), new ResumeFrom(100_000, validator)).block(TIMEOUT);
    assertThat(rest.offset()).isEqualTo(100_000);
    assertThat(rest.totalSize()).hasValue(image.length);
    assertThat(readAll(rest)).isEqualTo(Arrays.copyOfRange(image, 100_000, image.length));
  }

  @Test
  void aStaleValidatorGetsTheWholeImageFromByteZero() {
    byte[] image = image(50_000);
    Served served = serve(image);
    ImageDownload download = served.source().open(served.request(), new ResumeFrom(10_000, "\"stale\"")).block(TIMEOUT);
    assertThat(download.offset()).isZero();
    assertThat(readAll(download)).isEqualTo(image);
  }

  @Test
  void theBodyHonoursBackpressureAndCancelsCleanly() {
    byte[] image = image(1_000_000);
    Served served = serve(image);
    ImageDownload download = served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT);
    StepVerifier.create(download.body(), 1)
        .expectNextCount(1)
        .thenRequest(2)
        .expectNextCount(2)
        .thenCancel()
        .verify(TIMEOUT);
    // the source still serves after a cancelled body
    ImageDownload again = served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT);
    assertThat(readAll(again)).isEqualTo(image);
  }

  @Test
  void discardingAnUnreadDownloadLetsTheNextOpenSucceed() {
    byte[] image = image(80_000);
    Served served = serve(image);
    for (int i = 0; i < 5; i++) {
      served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT).discard();
    }
    assertThat(readAll(served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT))).isEqualTo(image);
  }

  @Test
  void anEmptyImageIsServedAsAnEmptyBody() {
    Served served = serve(new byte[0]);
    ImageDownload download = served.source().open(served.request(), ResumeFrom.start()).block(TIMEOUT);
    assertThat(download.totalSize()).hasValue(0);
    assertThat(readAll(download)).isEmpty();
  }
}
