package io.otaflux.testkit;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.UpdateRequest;
import io.otaflux.internal.Download;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A {@link FirmwareSource} serving an image from memory, for tests, demos and users' own tests:
 * configurable chunking, a pause between chunks, unknown length, a source that ignores resume
 * requests, and connections that break at chosen byte offsets.
 *
 * <p>Copy-on-write: every setter returns a new source (with a fresh record of what was opened).
 *
 * <pre>{@code
 * InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image)
 *     .chunkSize(4096)
 *     .breakAt(1_000_000, 3_000_000);   // the 1st connection breaks at 1 MB, the 2nd at 3 MB
 * }</pre>
 */
public final class InMemoryFirmwareSource implements FirmwareSource {

  private final byte[] image;
  private final int chunkSize;
  private final URI effectiveUri;
  private final String validator;
  private final boolean lengthKnown;
  private final boolean honoursResume;
  private final long[] breaks;
  private final @Nullable Duration pause;
  private final Scheduler pauseScheduler;
  private final @Nullable OtaException openFailure;
  private final List<ResumeFrom> opens = Collections.synchronizedList(new ArrayList<>());

  private InMemoryFirmwareSource(byte[] image, int chunkSize, URI effectiveUri, String validator, boolean lengthKnown,
      boolean honoursResume, long[] breaks, @Nullable Duration pause, Scheduler pauseScheduler,
      @Nullable OtaException openFailure) {
    this.image = image;
    this.chunkSize = chunkSize;
    this.effectiveUri = effectiveUri;
    this.validator = validator;
    this.lengthKnown = lengthKnown;
    this.honoursResume = honoursResume;
    this.breaks = breaks;
    this.pause = pause;
    this.pauseScheduler = pauseScheduler;
    this.openFailure = openFailure;
  }

  /**
   * A source serving these bytes (not copied: do not change them) in 8 KiB chunks, with its
   * length, an ETag-like validator from their digest, and resume support.
   *
   * @param image the image
   * @return the source
   */
  public static InMemoryFirmwareSource of(byte[] image) {
    Objects.requireNonNull(image, "image");
    String etag = "\"" + Sha256.digest(image).hex().substring(0, 16) + "\"";
    return new InMemoryFirmwareSource(image, 8192, URI.create("memory://firmware/image.bin"), etag, true, true,
        new long[0], null, Schedulers.parallel(), null);
  }

  /**
   * This source, emitting chunks of at most {@code bytes} bytes.
   *
   * @param bytes the chunk size, at least 1
   * @return a new source
   */
  public InMemoryFirmwareSource chunkSize(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("chunk size must be >= 1, was " + bytes);
    }
    return new InMemoryFirmwareSource(image, bytes, effectiveUri, validator, lengthKnown, honoursResume, breaks, pause,
        pauseScheduler, openFailure);
  }

  /**
   * This source, reporting another effective URL (as if redirected there).
   *
   * @param uri the effective URL
   * @return a new source
   */
  public InMemoryFirmwareSource effectiveUri(URI uri) {
    return new InMemoryFirmwareSource(image, chunkSize, Objects.requireNonNull(uri, "uri"), validator, lengthKnown,
        honoursResume, breaks, pause, pauseScheduler, openFailure);
  }

  /**
   * This source, with another validator (as if the image had changed on the server).
   *
   * @param validator the new validator
   * @return a new source
   */
  public InMemoryFirmwareSource validator(String validator) {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, Objects.requireNonNull(validator, "validator"),
        lengthKnown, honoursResume, breaks, pause, pauseScheduler, openFailure);
  }

  /**
   * This source, not telling the image's length (like a chunked HTTP answer).
   *
   * @return a new source
   */
  public InMemoryFirmwareSource withoutLength() {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, validator, false, honoursResume, breaks, pause,
        pauseScheduler, openFailure);
  }

  /**
   * This source, answering every resume request with the whole image from byte 0 (like a
   * server that ignores {@code Range}).
   *
   * @return a new source
   */
  public InMemoryFirmwareSource ignoringResume() {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, validator, lengthKnown, false, breaks, pause,
        pauseScheduler, openFailure);
  }

  /**
   * This source, whose k-th opened connection breaks (a transient {@code NETWORK} error) once
   * it has sent the image up to byte {@code offsets[k]}; later connections do not break.
   *
   * @param offsets image offsets, one per connection
   * @return a new source
   */
  public InMemoryFirmwareSource breakAt(long... offsets) {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, validator, lengthKnown, honoursResume,
        offsets.clone(), pause, pauseScheduler, openFailure);
  }

  /**
   * This source, pausing before each chunk (a slow network), keeping time on {@code scheduler}.
   *
   * @param delay the pause
   * @param scheduler the clock (a virtual one in tests)
   * @return a new source
   */
  public InMemoryFirmwareSource pauseBetweenChunks(Duration delay, Scheduler scheduler) {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, validator, lengthKnown, honoursResume, breaks,
        Objects.requireNonNull(delay, "delay"), Objects.requireNonNull(scheduler, "scheduler"), openFailure);
  }

  /**
   * This source, failing every open with {@code failure} (a trust failure, say).
   *
   * @param failure the error
   * @return a new source
   */
  public InMemoryFirmwareSource failingWith(OtaException failure) {
    return new InMemoryFirmwareSource(image, chunkSize, effectiveUri, validator, lengthKnown, honoursResume, breaks,
        pause, pauseScheduler, Objects.requireNonNull(failure, "failure"));
  }

  /**
   * What each open asked for, in order.
   *
   * @return a copy of the resume points asked for
   */
  public List<ResumeFrom> opens() {
    synchronized (opens) {
      return List.copyOf(opens);
    }
  }

  @Override
  public Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from) {
    return Mono.defer(() -> {
      int connection;
      synchronized (opens) {
        connection = opens.size();
        opens.add(from);
      }
      if (openFailure != null) {
        return Mono.error(openFailure);
      }
      boolean resumes = honoursResume && from.offset() > 0 && validator.equals(from.validator())
          && from.offset() <= image.length;
      long start = resumes ? from.offset() : 0;
      long breakAt = connection < breaks.length ? breaks[connection] : Long.MAX_VALUE;
      return Mono.just(download(start, breakAt));
    });
  }

  /** A connection's bytes from {@code start}, breaking at {@code breakAt}; its body can be read once. */
  private ImageDownload download(long start, long breakAt) {
    AtomicBoolean subscribed = new AtomicBoolean();
    Flux<ByteBuffer> chunks = Flux.generate(() -> start, (offset, sink) -> {
      if (offset >= breakAt) {
        sink.error(OtaException.transientFailure(OtaException.Reason.NETWORK,
            "The connection was lost at byte " + offset + ".", null));
        return offset;
      }
      if (offset >= image.length) {
        sink.complete();
        return offset;
      }
      int n = (int) Math.min(chunkSize, Math.min(image.length - offset, breakAt - offset));
      int from = offset.intValue();
      sink.next(ByteBuffer.wrap(Arrays.copyOfRange(image, from, from + n)));
      return offset + n;
    });
    Duration delay = pause;
    Flux<ByteBuffer> paced = delay == null ? chunks : chunks.delayElements(delay, pauseScheduler);
    Flux<ByteBuffer> once = Flux.defer(() -> subscribed.compareAndSet(false, true) ? paced
        : Flux.error(new IllegalStateException("the body of a download can be read once")));
    return new Download(effectiveUri, start, lengthKnown ? OptionalLong.of(image.length) : OptionalLong.empty(),
        validator, List.of(), once, () -> subscribed.set(true));
  }
}
