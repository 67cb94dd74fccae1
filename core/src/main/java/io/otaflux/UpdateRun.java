package io.otaflux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.internal.Sizes;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * One subscription's update: open the writer, stream attempts (retried, resumed at the durable
 * offset), verify, commit, release, activate. State is touched on the write scheduler, apart
 * from fields read when an attempt starts (volatile).
 */
final class UpdateRun {

  private static final Logger log = LoggerFactory.getLogger(OtaUpdater.class);
  private static final int REHASH_BUFFER = 1 << 20;

  private final OtaUpdater config;
  private final FirmwareSource source;
  private final SlotStore store;
  private final UpdateRequest request;
  private final Publisher<?> abortTrigger;
  private final ImageHasher hasher = new ImageHasher();
  private final ProgressThrottle throttle;
  private final Sinks.Many<UpdateEvent> retryEvents = Sinks.many().unicast().onBackpressureBuffer();

  private volatile long durable;
  private volatile @Nullable String validator;
  private volatile long total = UpdateEvent.UNKNOWN_SIZE;
  /** Whether {@link #total} is the source's own announcement (else the request's expected size). */
  private volatile boolean announced;
  private volatile @Nullable URI effectiveUri;
  private volatile @Nullable SlotId slot;
  private volatile @Nullable Sha256 digest;
  private volatile boolean aborted;
  /** The furthest resume point of this run's failures so far: a failure past it made progress. */
  private volatile long progressMark;
  /** Transient failures since the last one that made progress: what the retry budget counts. */
  private volatile int failuresInARow;

  UpdateRun(OtaUpdater config, FirmwareSource source, SlotStore store, UpdateRequest request,
      Publisher<?> abortTrigger) {
    this.config = config;
    this.source = source;
    this.store = store;
    this.request = request;
    this.abortTrigger = abortTrigger;
    this.throttle = new ProgressThrottle(config.timer(), config.progressInterval().toMillis());
  }

  Flux<UpdateEvent> events() {
    Mono<GuardedWriter> open = Mono.defer(() -> store.openWriter(ImageSpec.of(request)))
        .onErrorMap(e -> OtaException.wrap(e, Reason.STORAGE, "Opening the slot store failed"))
        .map(GuardedWriter::new);
    Flux<UpdateEvent> written = Flux.usingWhen(open,
        this::writeAndVerify,
        w -> onWrites(w::release),
        (w, error) -> onWrites(() -> end(w, error)),
        w -> onWrites(w::abort));
    return written.concatWith(Mono.defer(this::activate));
  }

  private Flux<UpdateEvent> writeAndVerify(GuardedWriter w) {
    Flux<UpdateEvent> attempts = Flux.defer(() -> attempt(w))
        .retryWhen(retrySpec())
        .doFinally(signal -> retryEvents.tryEmitComplete());
    Flux<UpdateEvent> body = onWrites(() -> prepare(w))
        .thenMany(Flux.merge(retryEvents.asFlux(), attempts))
        .concatWith(onWrites(() -> verify(w)));
    // a value, a completion (a Publisher<Void> button) or an error of the trigger all abort: the body
    // must never just stop, or the update would end empty, as if it had succeeded
    Mono<Boolean> abortSignal = Flux.from(abortTrigger).take(1).then()
        .onErrorResume(e -> Mono.empty())
        .then(Mono.fromCallable(() -> {
          aborted = true;
          return Boolean.TRUE;
        }));
    return body
        .takeUntilOther(abortSignal)
        .concatWith(Mono.defer(() -> aborted ? Mono.error(abortedError()) : Mono.empty()));
  }

  /** Where the writer resumes: re-hash the durable prefix an earlier run left. */
  private void prepare(GuardedWriter w) throws IOException {
    slot = w.slot();
    ResumeFrom from = w.resumePoint();
    long offset = from.offset();
    if (offset > 0 && !rehash(w, offset)) {
      offset = 0;
    }
    durable = offset;
    progressMark = offset;
    validator = offset > 0 ? from.validator() : null;
    hasher.checkpoint(offset);
    if (offset > 0) {
      log.debug("Resuming slot {} at byte {} from an earlier run", w.slot().label(), offset);
    }
  }

  private boolean rehash(GuardedWriter w, long length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(REHASH_BUFFER);
    long done = 0;
    while (done < length) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), length - done));
      int n = w.read(buffer, done);
      if (n < 0) {
        hasher.reset();
        return false;
      }
      buffer.flip();
      hasher.update(buffer);
      done += n;
    }
    return true;
  }

  private Flux<UpdateEvent> attempt(GuardedWriter w) {
    long from = durable;
    String sent = from > 0 ? validator : null;
    ResumeFrom resume = new ResumeFrom(from, sent);
    long firstTotal = announced ? total : UpdateEvent.UNKNOWN_SIZE;
    return open(resume)
        .flatMap(download -> contradicts(download, from, sent, firstTotal) ? restartFromZero(download, from, sent)
            : Mono.just(download))
        .flatMapMany(download -> stream(w, download, from).doFinally(signal -> download.discard()))
        // a broken connection keeps what it delivered: one sync, and the next attempt resumes there
        .onErrorResume(e -> e instanceof OtaException && ((OtaException) e).isTransient(),
            e -> onWrites(() -> keepWhatWasWritten(w)).then(Mono.error(e)));
  }

  private Mono<ImageDownload> open(ResumeFrom resume) {
    return Mono.defer(() -> source.open(request, resume))
        .onErrorMap(e -> !(e instanceof OtaException), UpdateRun::sourceError);
  }

  /**
   * Whether a resumed answer belongs to another image than the bytes before {@code from}: another
   * validator than the one sent, or another total size than the one first announced (RFC 9110:
   * a 206 continues the representation the If-Range validator names, or it must not be appended).
   */
  private static boolean contradicts(ImageDownload download, long from, @Nullable String sent, long firstTotal) {
    if (from == 0 || download.offset() != from) {
      return false;
    }
    if (sent != null && !sent.equals(download.validator())) {
      return true;
    }
    long offered = download.totalSize().orElse(UpdateEvent.UNKNOWN_SIZE);
    return firstTotal >= 0 && offered >= 0 && offered != firstTotal;
  }

  /** The resumed answer contradicts the prefix: never append it, ask for the whole image instead. */
  private Mono<ImageDownload> restartFromZero(ImageDownload contradicting, long from, @Nullable String sent) {
    log.debug("The answer resuming at byte {} is another image (validator {} for {}, size {}); restarting from byte 0",
        from, contradicting.validator(), sent, contradicting.totalSize());
    contradicting.discard();
    return open(ResumeFrom.start()).flatMap(download -> {
      if (download.offset() != 0) {
        download.discard();
        return Mono.error(OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server answered the request for the"
            + " whole image with bytes from " + download.offset() + " on, after its resumed answer had belonged to"
            + " another version of the image; its answers are inconsistent. Nothing was activated; try again later"
            + " or ask the server's operator."));
      }
      return Mono.just(download);
    });
  }

  /** After a transient failure: make the bytes written so far durable, so the next attempt resumes there. */
  private void keepWhatWasWritten(GuardedWriter w) throws IOException {
    long done = w.position();
    if (done > durable && validator != null) {
      w.sync(validator);
      hasher.checkpoint(done);
      durable = done;
    }
  }

  private Flux<UpdateEvent> stream(GuardedWriter w, ImageDownload download, long from) {
    long start = download.offset();
    if (start != from && start != 0) {
      return Flux.error(OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server sent the image from byte " + start
          + " when byte " + from + " was asked for; the answer is inconsistent. Try again later or ask its operator."));
    }
    long offered = download.totalSize().orElse(UpdateEvent.UNKNOWN_SIZE);
    long expected = request.size().orElse(UpdateEvent.UNKNOWN_SIZE);
    if (offered >= 0 && expected >= 0 && offered != expected) {
      return Flux.error(OtaException.of(Detail.SIZE_MISMATCH, "The server offers an image of " + offered
          + " bytes but " + expected + " bytes were expected; it is not the image you meant. Nothing was written;"
          + " check the URL and the expected size."));
    }
    long size = offered >= 0 ? offered : expected;
    if (size > w.capacity()) {
      return Flux.error(tooLarge(size, w));
    }
    total = size;
    announced = offered >= 0;
    effectiveUri = download.effectiveUri();
    if (download.validator() != null) {
      validator = download.validator();
    }
    UpdateEvent resolved = new UpdateEvent.Resolved(download.effectiveUri(), size, start, w.slot(),
        download.warnings());
    Mono<Void> position = onWrites(() -> {
      if (start == 0 && from > 0) {
        log.debug("The source sent the whole image again; slot {} restarts from byte 0", w.slot().label());
        hasher.reset();
        durable = 0;
      } else {
        hasher.restore();
      }
      w.rewind(start);
      throttle.restartAt(start);
    });
    // the source's own receive buffers, hashed and written, then given back: no copy at the boundary
    Flux<UpdateEvent> chunks = download.lentBody()
        .onErrorMap(e -> !(e instanceof OtaException), UpdateRun::sourceError)
        .publishOn(config.writes(), config.chunks())
        .<UpdateEvent>handle((chunk, sink) -> {
          try {
            UpdateEvent.Progress progress = write(w, chunk);
            if (progress != null) {
              sink.next(progress);
            }
          } catch (IOException e) {
            sink.error(storageError(w, e));
          } catch (RuntimeException e) {
            sink.error(OtaException.wrap(e, Reason.STORAGE, "Writing slot " + w.slot().label() + " failed"));
          } finally {
            download.giveBack(chunk);
          }
        })
        // chunks still queued when the run fails or is cancelled go back too
        .doOnDiscard(ByteBuffer.class, download::giveBack)
        .concatWith(Mono.defer(() -> endOfBody(w)));
    return Flux.concat(Mono.just(resolved), position.thenMany(chunks));
  }

  private UpdateEvent.@Nullable Progress write(GuardedWriter w, ByteBuffer chunk) throws IOException {
    long position = w.position();
    int n = chunk.remaining();
    long size = total;
    if (size >= 0 && position + n > size && announced) {
      throw OtaException.of(Detail.INCONSISTENT_RESPONSE, "The server sent more than the " + size
          + " bytes it announced; the answer is malformed. Nothing was activated; ask the server's operator.");
    }
    if (size >= 0 && position + n > size) {
      throw OtaException.of(Detail.SIZE_MISMATCH, "The image is larger than the " + size + " bytes expected; it is not"
          + " the image you meant. Nothing was activated; check the URL and the expected size.");
    }
    if (position + n > w.capacity()) {
      throw tooLarge(position + n, w);
    }
    hasher.update(chunk);
    w.write(chunk);
    long done = position + n;
    if (done - durable >= config.syncInterval()) {
      w.sync(validator);
      hasher.checkpoint(done);
      durable = done;
    }
    return throttle.onWritten(done, size);
  }

  private Mono<UpdateEvent> endOfBody(GuardedWriter w) {
    long done = w.position();
    long size = total;
    if (size >= 0 && done < size) {
      return Mono.error(OtaException.transientFailure(Detail.CONNECTION_LOST, "The connection closed after "
          + Sizes.human(done) + " of " + Sizes.human(size) + ".", null));
    }
    UpdateEvent.Progress last = throttle.onEnd(done, size >= 0 ? size : done);
    return last == null ? Mono.empty() : Mono.just(last);
  }

  private UpdateEvent verify(GuardedWriter w) throws IOException {
    long size = w.position();
    w.sync(validator);
    durable = size;
    Sha256 actual = hasher.finish();
    long expectedSize = request.size().orElse(UpdateEvent.UNKNOWN_SIZE);
    if (expectedSize >= 0 && size != expectedSize) {
      throw OtaException.of(Detail.SIZE_MISMATCH, "The image has " + size + " bytes but " + expectedSize
          + " were expected; it is not the image you meant. Nothing was activated; check the URL and the size.");
    }
    Sha256 expected = request.sha256().orElse(null);
    if (expected != null && !expected.equals(actual)) {
      throw OtaException.of(Detail.DIGEST_MISMATCH, "The image's SHA-256 is " + actual.hex() + " but " + expected.hex()
          + " was expected; the download is not the image you meant. Nothing was activated; check the URL and the digest.");
    }
    URI origin = effectiveUri != null ? effectiveUri : request.uri();
    w.commit(new ImageMetadata(size, actual, origin, request.version().orElse(null)));
    digest = actual;
    return new UpdateEvent.Verified(w.slot(), size, actual);
  }

  private Mono<UpdateEvent> activate() {
    SlotId target = slot;
    Sha256 image = digest;
    if (!request.isActivating() || target == null || image == null) {
      return Mono.empty();
    }
    return store.activate(target, image)
        .onErrorMap(e -> OtaException.wrap(e, Reason.STORAGE, "Activating slot " + target.label() + " failed"))
        .then(Mono.fromCallable(() -> new UpdateEvent.Activated(target)));
  }

  /** After a failure: keep the journal when the same image may be resumed later. */
  private static void end(GuardedWriter w, Throwable error) {
    Reason reason = error instanceof OtaException ? ((OtaException) error).reason() : Reason.STORAGE;
    if (reason == Reason.NETWORK || reason == Reason.SERVER || reason == Reason.STORAGE) {
      w.release();
    } else {
      w.abort();
    }
  }

  /**
   * Transient failures are retried with backoff (doubling, with jitter, up to the maximum); the
   * budget counts failures in a row without progress, so a link that breaks every megabyte still
   * delivers a large image while a server that delivers nothing is given up on. A server's
   * {@code Retry-After} lengthens the wait, up to the maximum backoff and never past it.
   */
  private Retry retrySpec() {
    return Retry.from(signals -> signals.concatMap(signal -> {
      Throwable failure = signal.failure();
      if (!(failure instanceof OtaException) || !((OtaException) failure).isTransient()) {
        return Mono.error(failure);
      }
      OtaException cause = (OtaException) failure;
      long resumeAt = durable;
      // progress is a resume point past every earlier one, with a validator to resume it by: a server
      // that restarts the image at every try (no validator, Range ignored) and breaks makes none
      if (resumeAt > progressMark && validator != null) {
        failuresInARow = 0;
        progressMark = resumeAt;
      }
      if (failuresInARow >= config.retries()) {
        return Mono.error(exhausted(cause, failuresInARow));
      }
      int inARow = ++failuresInARow;
      Duration wait = backoff(inARow);
      boolean capped = false;
      OtaException shown = cause;
      Duration asked = cause.retryAfter().orElse(null);
      if (asked != null && asked.compareTo(config.maxBackoff()) > 0) {
        capped = true;
        wait = config.maxBackoff();
        shown = cause.withMessage(sentence(cause) + " The server asked to wait " + human(asked)
            + " before trying again; waiting " + human(wait) + " instead, the retry policy's longest backoff.");
      } else if (asked != null && asked.compareTo(wait) > 0) {
        wait = asked;
      }
      log.debug("Attempt {} failed ({}); resuming from byte {} in {}", signal.totalRetries() + 1, cause.getMessage(),
          resumeAt, wait);
      retryEvents.tryEmitNext(new UpdateEvent.Retrying((int) signal.totalRetries() + 2, resumeAt, shown, wait, capped));
      return Mono.delay(wait, config.timer()).thenReturn(signal);
    }));
  }

  /** The n-th backoff in a row: the first, doubled per failure up to the maximum, plus up to half again. */
  private Duration backoff(int failures) {
    Duration max = config.maxBackoff();
    Duration base = config.firstBackoff();
    for (int i = 1; i < failures && base.compareTo(max) < 0; i++) {
      base = base.multipliedBy(2);
    }
    if (base.compareTo(max) > 0) {
      base = max;
    }
    long room = Math.min(max.minus(base).toMillis(), base.toMillis() / 2);
    return room <= 0 ? base : base.plusMillis(ThreadLocalRandom.current().nextLong(room + 1));
  }

  /** A wait as a person reads it; never overflows, whatever the server sent. */
  static String human(Duration d) {
    long seconds = d.getSeconds();
    if (seconds < 1) {
      return d.getNano() / 1_000_000 + " ms";
    }
    if (seconds < 120) {
      return seconds + " s";
    }
    if (seconds < 2 * 3600) {
      return seconds / 60 + " min";
    }
    if (seconds < 2 * 86400) {
      return seconds / 3600 + " h";
    }
    return seconds / 86400 + " days";
  }

  private static String sentence(OtaException e) {
    String message = String.valueOf(e.getMessage());
    return message.endsWith(".") ? message : message + ".";
  }

  private OtaException exhausted(OtaException cause, long retries) {
    String resume = durable > 0 ? "; running it again resumes from " + Sizes.human(durable) : "";
    String message = cause.getMessage();
    String base = message != null && message.endsWith(".") ? message.substring(0, message.length() - 1) : message;
    if (retries == 0) {
      return cause.asFinal(base + ". Check the network and the server, then run the update again" + resume + ".");
    }
    return cause.asFinal(base + " (gave up after " + retries + (retries == 1 ? " retry" : " retries")
        + "). Check the network and the server, then run the update again" + resume + ".");
  }

  private static OtaException sourceError(Throwable e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof IOException || e instanceof UncheckedIOException) {
      return OtaException.transientFailure(Reason.NETWORK, "The download failed: " + detail + ".", e);
    }
    return OtaException.of(Reason.NETWORK, "The download failed: " + detail + ".", e);
  }

  private static OtaException storageError(GuardedWriter w, IOException e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return OtaException.of(Reason.STORAGE, "Writing slot " + w.slot().label() + " failed: " + detail
        + ". Nothing was activated; check the disk (space, permissions) and run the update again.", e);
  }

  private static OtaException tooLarge(long size, GuardedWriter w) {
    return OtaException.of(Detail.SLOT_TOO_SMALL, "The image (" + Sizes.human(size) + ") is larger than slot "
        + w.slot().label() + " (" + Sizes.human(w.capacity()) + "); nothing was written. Use larger slots or a smaller image.");
  }

  private static OtaException abortedError() {
    return OtaException.of(Detail.ABORTED,
        "The update was aborted; the running firmware and the boot choice are unchanged.");
  }

  @FunctionalInterface
  private interface SlotAction<T> {
    T run() throws IOException;
  }

  @FunctionalInterface
  private interface SlotStep {
    void run() throws IOException;
  }

  private <T> Mono<T> onWrites(SlotAction<T> action) {
    return Mono.fromCallable(action::run)
        .onErrorMap(IOException.class, e -> OtaException.of(Reason.STORAGE, "The slot store failed: " + e.getMessage()
            + ". Nothing was activated; check the disk and run the update again.", e))
        .subscribeOn(config.writes());
  }

  private Mono<Void> onWrites(SlotStep step) {
    return onWrites(() -> {
      step.run();
      return Boolean.TRUE;
    }).then();
  }
}
