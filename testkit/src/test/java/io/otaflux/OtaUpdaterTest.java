package io.otaflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateEvent.Activated;
import io.otaflux.UpdateEvent.Progress;
import io.otaflux.UpdateEvent.Resolved;
import io.otaflux.UpdateEvent.Retrying;
import io.otaflux.UpdateEvent.Verified;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.testkit.InMemorySlotStore;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;

import org.junit.jupiter.api.Test;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

class OtaUpdaterTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final long MIB = 1024 * 1024;

  private final byte[] image = TestImages.random(300_000, 42);
  private final Sha256 digest = Sha256.digest(image);
  private final InMemorySlotStore store = InMemorySlotStore.create(MIB);

  private OtaUpdater updater(FirmwareSource source) {
    return OtaUpdater.create()
        .source(source)
        .store(store)
        .retry(3, Duration.ofMillis(1), Duration.ofMillis(5))
        .syncEvery(64 * 1024);
  }

  private void assertStoreUnchanged() {
    StoreStatus status = store.status().block(TIMEOUT);
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.A).state()).isEqualTo(SlotState.GOOD);
    assertThat(status.slot(SlotId.B).state().isBootable()).isFalse();
  }

  /** The body is subscribed on the write scheduler once the resolved event is out: wait for it. */
  private static void awaitSubscribed(TestPublisher<?> body) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!body.wasSubscribed() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    body.assertWasSubscribed();
  }

  private static void assertReason(Throwable error, Reason reason) {
    assertThat(error).isInstanceOf(OtaException.class);
    assertThat(((OtaException) error).reason()).as(error.getMessage()).isEqualTo(reason);
  }

  @Test
  void aGoodUpdateResolvesProgressesVerifiesAndActivatesInThatOrder() {
    StepVerifier.create(updater(InMemoryFirmwareSource.of(image)).update(TestImages.request().withSha256(digest)))
        .assertNext(e -> {
          Resolved r = (Resolved) e;
          assertThat(r.totalBytes()).isEqualTo(image.length);
          assertThat(r.resumedFrom()).isZero();
          assertThat(r.slot()).isEqualTo(SlotId.B);
        })
        .thenConsumeWhile(e -> e instanceof Progress)
        .assertNext(e -> assertThat(e).isEqualTo(new Verified(SlotId.B, image.length, digest)))
        .expectNext(new Activated(SlotId.B))
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
    StoreStatus status = store.status().block(TIMEOUT);
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
  }

  @Test
  void installReturnsTheResultWithTheEffectiveUrlAndVersion() {
    URI effective = URI.create("https://cdn.example/fw/gw-2.0.bin");
    UpdateResult result = updater(InMemoryFirmwareSource.of(image).effectiveUri(effective))
        .install(TestImages.request().withVersion("2.0.0"))
        .block(TIMEOUT);
    assertThat(result).isEqualTo(new UpdateResult(SlotId.B, image.length, digest, effective, true, "2.0.0", List.of()));
    assertThat(store.status().block(TIMEOUT).slot(SlotId.B).version()).isEqualTo("2.0.0");
  }

  @Test
  void aDigestMismatchFailsWithIntegrityAndActivatesNothing() {
    StepVerifier.create(updater(InMemoryFirmwareSource.of(image))
            .update(TestImages.request().withSha256(Sha256.digest(new byte[] {1, 2, 3}))))
        .thenConsumeWhile(e -> !(e instanceof Verified))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e.getMessage()).contains(digest.hex()).contains("Nothing was activated");
        })
        .verify(TIMEOUT);
    assertStoreUnchanged();
    assertThat(store.status().block(TIMEOUT).slot(SlotId.B).state()).isEqualTo(SlotState.INVALID);
  }

  @Test
  void aSourceOfferingAnotherSizeThanExpectedFailsBeforeAnyByteIsWritten() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image);
    StepVerifier.create(updater(source).update(TestImages.request().withSize(image.length + 1L)))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e.getMessage()).contains(image.length + " bytes").contains((image.length + 1) + " bytes");
        })
        .verify(TIMEOUT);
    assertThat(store.contents(SlotId.B)).isEmpty();
    assertStoreUnchanged();
  }

  @Test
  void anImageOfUnknownLengthThatEndsShortOfTheExpectedSizeFailsWithIntegrity() {
    StepVerifier.create(updater(InMemoryFirmwareSource.of(image).withoutLength())
            .update(TestImages.request().withSize(image.length + 10L)))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertReason(e, Reason.NETWORK))
        .verify(TIMEOUT);
    assertStoreUnchanged();
  }

  @Test
  void anImageOfUnknownLengthLongerThanTheExpectedSizeFailsWithIntegrityNotBlamingAnAnnouncement() {
    StepVerifier.create(updater(InMemoryFirmwareSource.of(image).withoutLength())
            .update(TestImages.request().withSize(image.length - 10L)))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e.getMessage()).contains("bytes expected").doesNotContain("announced");
        })
        .verify(TIMEOUT);
    assertStoreUnchanged();
  }

  @Test
  void anImageOfUnknownLengthInstallsAndTheLastProgressIsItsSize() {
    List<UpdateEvent> events = updater(InMemoryFirmwareSource.of(image).withoutLength())
        .update(TestImages.request()).collectList().block(TIMEOUT);
    assertThat(((Resolved) events.get(0)).totalBytes()).isEqualTo(UpdateEvent.UNKNOWN_SIZE);
    Progress last = (Progress) events.get(events.size() - 3);
    assertThat(last.bytesDone()).isEqualTo(image.length);
    assertThat(last.fraction()).hasValue(1.0);
    assertThat(events.get(events.size() - 1)).isEqualTo(new Activated(SlotId.B));
  }

  @Test
  void aConnectionLostMidwaySyncsWhatItDeliveredAndResumesThereByteIdentical() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(150_000);
    List<UpdateEvent> events = updater(source).update(TestImages.request().withSha256(digest))
        .collectList().block(TIMEOUT);
    // the break syncs the 150 000 bytes delivered (not only the last periodic sync at 140 000)
    long durable = 150_000;
    assertThat(source.opens()).containsExactly(ResumeFrom.start(), new ResumeFrom(durable, "\"" + digest.hex().substring(0, 16) + "\""));
    assertThat(events).filteredOn(e -> e instanceof Retrying)
        .singleElement()
        .satisfies(e -> {
          Retrying r = (Retrying) e;
          assertThat(r.attempt()).isEqualTo(2);
          assertThat(r.resumeOffset()).isEqualTo(durable);
          assertThat(r.cause().reason()).isEqualTo(Reason.NETWORK);
        });
    assertThat(events).filteredOn(e -> e instanceof Resolved).extracting(e -> ((Resolved) e).resumedFrom())
        .containsExactly(0L, durable);
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
    assertThat(events.get(events.size() - 1)).isEqualTo(new Activated(SlotId.B));
  }

  @Test
  void retriesUsedUpFailWithNetworkAndSayWhatToDo() {
    // the retries count failures in a row that bring no byte: every resume breaks where it starts
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(10_000)
        .breakAt(100_000, 100_000, 100_000, 100_000);
    StepVerifier.create(updater(source).update(TestImages.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.NETWORK);
          assertThat(((OtaException) e).isTransient()).isFalse();
          assertThat(e.getMessage()).contains("gave up after 3 retries").contains("run the update again");
        })
        .verify(TIMEOUT);
    assertThat(source.opens()).hasSize(4);
    assertStoreUnchanged();
  }

  @Test
  void aSourceThatIgnoresResumeRestartsFromZeroAndStillVerifies() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(200_000).ignoringResume();
    List<UpdateEvent> events = updater(source).update(TestImages.request().withSha256(digest))
        .collectList().block(TIMEOUT);
    assertThat(source.opens().get(1).offset()).isGreaterThan(0);
    assertThat(events).filteredOn(e -> e instanceof Resolved).extracting(e -> ((Resolved) e).resumedFrom())
        .containsExactly(0L, 0L);
    assertThat(events).filteredOn(e -> e instanceof Progress)
        .allSatisfy(e -> assertThat(((Progress) e).bytesDone()).isLessThanOrEqualTo(image.length));
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
  }

  @Test
  void aNonTransientSourceFailureIsNotRetried() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image)
        .failingWith(OtaException.of(Reason.TRUST, "The server's certificate is not trusted."));
    StepVerifier.create(updater(source).update(TestImages.request()))
        .expectErrorSatisfies(e -> assertReason(e, Reason.TRUST))
        .verify(TIMEOUT);
    assertThat(source.opens()).hasSize(1);
    assertStoreUnchanged();
  }

  @Test
  void backoffBetweenRetriesRunsOnTheInjectedScheduler() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(150_000);
    OtaUpdater slow = updater(source).retry(2, Duration.ofMinutes(1), Duration.ofMinutes(10))
        .scheduler(time).writeScheduler(Schedulers.immediate());
    StepVerifier.withVirtualTime(() -> slow.update(TestImages.request()), () -> time, Long.MAX_VALUE)
        .expectNextMatches(e -> e instanceof Resolved)
        .thenConsumeWhile(e -> !(e instanceof Retrying))
        .expectNextMatches(e -> e instanceof Retrying)
        .expectNoEvent(Duration.ofSeconds(30))
        .then(() -> assertThat(source.opens()).hasSize(1))
        .thenAwait(Duration.ofMinutes(2))
        .expectNextMatches(e -> e instanceof Resolved && ((Resolved) e).resumedFrom() > 0)
        .thenConsumeWhile(e -> !(e instanceof Activated))
        .expectNext(new Activated(SlotId.B))
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(source.opens()).hasSize(2);
  }

  /**
   * A server answers the first request 503 with {@code Retry-After: retryAfter}, then serves the
   * image: the {@code Retrying} event passes {@code retrying}, nothing is opened again for {@code quiet}
   * (virtual time), and {@code rest} later the update resumes and completes.
   */
  private void assertRetryAfterIsKept(Duration retryAfter, int retries, Duration firstBackoff, Duration maxBackoff,
      java.util.function.Consumer<Retrying> retrying, Duration quiet, Duration rest) {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    AtomicInteger opens = new AtomicInteger();
    InMemoryFirmwareSource good = InMemoryFirmwareSource.of(image);
    FirmwareSource busyOnce = (request, from) -> opens.getAndIncrement() == 0
        ? reactor.core.publisher.Mono.error(OtaException.transientFailure(Reason.SERVER, "503 Service Unavailable", null)
            .withRetryAfter(retryAfter))
        : good.open(request, from);
    OtaUpdater updater = updater(busyOnce).retry(retries, firstBackoff, maxBackoff)
        .scheduler(time).writeScheduler(Schedulers.immediate());
    StepVerifier.withVirtualTime(() -> updater.update(TestImages.request()), () -> time, Long.MAX_VALUE)
        .assertNext(e -> retrying.accept((Retrying) e))
        .expectNoEvent(quiet)
        .then(() -> assertThat(opens).hasValue(1))
        .thenAwait(rest)
        .expectNextMatches(e -> e instanceof Resolved)
        .thenConsumeWhile(e -> !(e instanceof Activated))
        .expectNextCount(1)
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void aRetryAfterFromTheServerDelaysTheNextAttemptUpToTheMaximumBackoff() {
    assertRetryAfterIsKept(Duration.ofMinutes(5), 1, Duration.ofMillis(10), Duration.ofMinutes(10), r -> {
      assertThat(r.cause().reason()).isEqualTo(Reason.SERVER);
      assertThat(r.delay()).isEqualTo(Duration.ofMinutes(5));
      assertThat(r.delayCapped()).isFalse();
    }, Duration.ofMinutes(4), Duration.ofMinutes(2));
  }

  @Test
  void aRetryAfterLongerThanTheMaximumBackoffIsCutToItAndTheEventAndSentenceSaySo() {
    assertRetryAfterIsKept(Duration.ofSeconds(86_400), 3, Duration.ofSeconds(1), Duration.ofSeconds(30), r -> {
      assertThat(r.delay()).isEqualTo(Duration.ofSeconds(30));
      assertThat(r.delayCapped()).isTrue();
      assertThat(r.cause().detail()).isEqualTo(OtaException.Detail.BAD_RESPONSE);
      assertThat(r.cause().getMessage()).contains("asked to wait 24 h").contains("waiting 30 s instead");
    }, Duration.ofSeconds(29), Duration.ofSeconds(1));
  }

  @Test
  void aLinkBreakingOftenStillDeliversAnImageManyTimesLongerBecauseEveryBreakKeepsItsBytes() {
    // ten breaks, each after 25 000 new bytes: three retries in a row without progress never run out
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(5_000)
        .breakAt(25_000, 50_000, 75_000, 100_000, 125_000, 150_000, 175_000, 200_000, 225_000, 250_000);
    List<UpdateEvent> events = updater(source).update(TestImages.request().withSha256(digest))
        .collectList().block(TIMEOUT);
    assertThat(source.opens()).extracting(ResumeFrom::offset)
        .containsExactly(0L, 25_000L, 50_000L, 75_000L, 100_000L, 125_000L, 150_000L, 175_000L, 200_000L, 225_000L,
            250_000L);
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
    assertThat(events.get(events.size() - 1)).isEqualTo(new Activated(SlotId.B));
  }

  @Test
  void aResumedAnswerWithAnotherValidatorIsNeverAppendedTheRunRestartsFromZeroWithTheNewImage() {
    byte[] other = TestImages.random(image.length, 7);
    AtomicInteger opens = new AtomicInteger();
    InMemoryFirmwareSource first = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(150_000);
    InMemoryFirmwareSource changed = InMemoryFirmwareSource.of(other).chunkSize(10_000);
    // a source that answers the resume of the old image with the new one's bytes from the same offset
    FirmwareSource lying = (request, from) -> opens.getAndIncrement() == 0 ? first.open(request, from)
        : changed.open(request, ResumeFrom.start()).map(d -> from.offset() == 0 ? d : new Shifted(d, from.offset()));
    List<UpdateEvent> events = updater(lying).update(TestImages.request()).collectList().block(TIMEOUT);
    assertThat(opens).hasValue(3);
    assertThat(events).filteredOn(e -> e instanceof Resolved).extracting(e -> ((Resolved) e).resumedFrom())
        .containsExactly(0L, 0L);
    assertThat(store.contents(SlotId.B)).isEqualTo(other);
    assertThat(events).contains(new Verified(SlotId.B, other.length, Sha256.digest(other)));
  }

  @Test
  void aResumedAnswerWithAnotherTotalSizeIsNeverAppended() {
    byte[] longer = TestImages.random(image.length + 1000, 8);
    AtomicInteger opens = new AtomicInteger();
    InMemoryFirmwareSource first = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(150_000);
    InMemoryFirmwareSource grown = InMemoryFirmwareSource.of(longer).chunkSize(10_000)
        .validator("\"" + digest.hex().substring(0, 16) + "\"");
    FirmwareSource source = (request, from) -> opens.getAndIncrement() == 0 ? first.open(request, from)
        : grown.open(request, from);
    updater(source).update(TestImages.request()).blockLast(TIMEOUT);
    assertThat(grown.opens()).extracting(ResumeFrom::offset).containsExactly(150_000L, 0L);
    assertThat(store.contents(SlotId.B)).isEqualTo(longer);
  }

  /** A download of the whole image presented as if it resumed at {@code offset} (a lying server). */
  private static final class Shifted implements io.otaflux.spi.ImageDownload {
    private final io.otaflux.spi.ImageDownload whole;
    private final long offset;

    Shifted(io.otaflux.spi.ImageDownload whole, long offset) {
      this.whole = whole;
      this.offset = offset;
    }

    @Override
    public java.net.URI effectiveUri() {
      return whole.effectiveUri();
    }

    @Override
    public long offset() {
      return offset;
    }

    @Override
    public java.util.OptionalLong totalSize() {
      return whole.totalSize();
    }

    @Override
    public String validator() {
      return whole.validator();
    }

    @Override
    public List<String> warnings() {
      return whole.warnings();
    }

    @Override
    public Flux<java.nio.ByteBuffer> body() {
      long[] seen = {0};
      return whole.body().handle((chunk, sink) -> {
        long start = seen[0];
        seen[0] += chunk.remaining();
        if (seen[0] > offset) {
          java.nio.ByteBuffer tail = chunk.duplicate();
          tail.position(tail.position() + (int) Math.max(0, offset - start));
          sink.next(tail);
        }
      });
    }

    @Override
    public void discard() {
      whole.discard();
    }
  }

  @Test
  void cancellingMidwayLeavesTheActiveSlotAndTheBootChoiceAsTheyWere() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    InMemoryFirmwareSource slow = InMemoryFirmwareSource.of(image).chunkSize(10_000)
        .pauseBetweenChunks(Duration.ofSeconds(1), time);
    OtaUpdater updater = updater(slow).scheduler(time).writeScheduler(Schedulers.immediate());
    StepVerifier.withVirtualTime(() -> updater.update(TestImages.request()), () -> time, Long.MAX_VALUE)
        .expectNextMatches(e -> e instanceof Resolved)
        .thenAwait(Duration.ofSeconds(5))
        .expectNextCount(5)
        .thenCancel()
        .verify(TIMEOUT);
    assertThat(store.contents(SlotId.B).length).isBetween(1, image.length - 1);
    assertStoreUnchanged();
    // the cancelled write released the lock: the next update runs
    assertThat(updater(InMemoryFirmwareSource.of(image)).install(TestImages.request()).block(TIMEOUT).activated()).isTrue();
  }

  /**
   * A slow update (10 000 bytes a second, virtual time) given the abort trigger {@code trigger},
   * pressed ({@code press}) 3 s in: it ends in an error that passes {@code aborted}, the store unchanged.
   */
  private <T> void assertTriggerAborts(Sinks.One<T> trigger, Runnable press, java.util.function.Consumer<Throwable> aborted) {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    InMemoryFirmwareSource slow = InMemoryFirmwareSource.of(image).chunkSize(10_000)
        .pauseBetweenChunks(Duration.ofSeconds(1), time);
    OtaUpdater updater = updater(slow).scheduler(time).writeScheduler(Schedulers.immediate());
    StepVerifier.withVirtualTime(() -> updater.update(TestImages.request(), trigger.asMono()), () -> time, Long.MAX_VALUE)
        .expectNextMatches(e -> e instanceof Resolved)
        .thenAwait(Duration.ofSeconds(3))
        .then(press)
        .thenConsumeWhile(e -> e instanceof Progress)
        .expectErrorSatisfies(aborted)
        .verify(TIMEOUT);
    assertStoreUnchanged();
  }

  @Test
  void anAbortTriggerEndsTheUpdateWithAbortedOnceTheWriterHasStopped() {
    Sinks.One<String> button = Sinks.one();
    assertTriggerAborts(button, () -> button.tryEmitValue("abort"), e -> {
      assertReason(e, Reason.ABORTED);
      // the abort completed before the error was signalled
      assertThat(store.status().block(TIMEOUT).slot(SlotId.B).state()).isEqualTo(SlotState.INVALID);
    });
  }

  @Test
  void aTriggerCompletingWithoutAValueAbortsInsteadOfEndingTheUpdateEmpty() {
    Sinks.One<Void> button = Sinks.one();
    assertTriggerAborts(button, button::tryEmitEmpty, e -> assertReason(e, Reason.ABORTED));
  }

  @Test
  void aSessionAbortIsSeenAsAbortedByEverySubscriberAndByTheResult() throws InterruptedException {
    InMemoryFirmwareSource slow = InMemoryFirmwareSource.of(image).chunkSize(1000)
        .pauseBetweenChunks(Duration.ofMillis(5), Schedulers.parallel());
    UpdateSession session = updater(slow).session(TestImages.request());
    CountDownLatch progressing = new CountDownLatch(1);
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    session.events().subscribe(e -> { }, errors::add);
    session.events().subscribe(e -> {
      if (e instanceof Progress) {
        progressing.countDown();
      }
    }, errors::add);
    session.start();
    assertThat(progressing.await(10, TimeUnit.SECONDS)).isTrue();
    session.abort();
    StepVerifier.create(session.result())
        .expectErrorSatisfies(e -> assertReason(e, Reason.ABORTED))
        .verify(TIMEOUT);
    StepVerifier.create(session.events())
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertReason(e, Reason.ABORTED))
        .verify(TIMEOUT);
    assertThat(errors).hasSize(2).allSatisfy(e -> assertReason(e, Reason.ABORTED));
    assertStoreUnchanged();
  }

  @Test
  void aSessionRunsOnlyOnceStartedAndGivesEverySubscriberTheSameResult() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image);
    UpdateSession session = updater(source).session(TestImages.request().withSha256(digest));
    assertThat(source.opens()).isEmpty();
    StepVerifier early = StepVerifier.create(session.events())
        .expectNextMatches(e -> e instanceof Resolved)
        .thenConsumeWhile(e -> !(e instanceof Activated))
        .expectNext(new Activated(SlotId.B))
        .expectComplete()
        .verifyLater();
    session.start().start();
    early.verify(TIMEOUT);
    UpdateResult result = session.result().block(TIMEOUT);
    assertThat(result.sha256()).isEqualTo(digest);
    // a late subscriber sees the latest event and the end
    StepVerifier.create(session.events())
        .expectNext(new Activated(SlotId.B))
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(source.opens()).hasSize(1);
  }

  @Test
  void aSlowWriterNeverHasMoreThanTheBoundedNumberOfChunksInFlight() {
    byte[] big = TestImages.random(2_000_000, 7);
    AtomicLong emitted = new AtomicLong();
    AtomicLong written = new AtomicLong();
    AtomicLong maxInFlight = new AtomicLong();
    SlotStore slow = TestImages.withWriteHook(InMemorySlotStore.create(4 * MIB), (w, chunk) -> {
      maxInFlight.accumulateAndGet(emitted.get() - written.get(), Math::max);
      java.util.concurrent.locks.LockSupport.parkNanos(200_000);
      written.incrementAndGet();
    });
    FirmwareSource source = TestImages.counting(InMemoryFirmwareSource.of(big).chunkSize(4096), emitted);
    OtaUpdater updater = OtaUpdater.create().source(source).store(slow).chunksInFlight(4);
    assertThat(updater.install(TestImages.request()).block(TIMEOUT).size()).isEqualTo(big.length);
    assertThat(written.get()).isEqualTo(emitted.get()).isGreaterThan(400);
    // the chunk being written plus the bounded queue
    assertThat(maxInFlight.get()).isBetween(3L, 5L);
  }

  @Test
  void writesNeverRunOnTheSourcesThread() {
    AtomicBoolean onSourceThread = new AtomicBoolean();
    SlotStore watched = TestImages.withWriteHook(store, (w, chunk) -> {
      if (Thread.currentThread().getName().startsWith("source-")) {
        onSourceThread.set(true);
      }
    });
    FirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(8192)
        .pauseBetweenChunks(Duration.ofMillis(1), Schedulers.newSingle("source-thread"));
    OtaUpdater.create().source(source).store(watched).install(TestImages.request()).block(TIMEOUT);
    assertThat(onSourceThread).isFalse();
  }

  /**
   * The progress events of a whole update in virtual time: the image in chunks of {@code chunk}
   * bytes, one per {@code pause}, progress at most every {@code every}.
   */
  private List<Progress> progressOf(int chunk, Duration pause, Duration every) {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(chunk).pauseBetweenChunks(pause, time);
    OtaUpdater updater = updater(source).progressEvery(every).scheduler(time).writeScheduler(Schedulers.immediate());
    List<UpdateEvent> events = new java.util.ArrayList<>();
    StepVerifier.withVirtualTime(() -> updater.update(TestImages.request()), () -> time, Long.MAX_VALUE)
        .recordWith(() -> events)
        .thenAwait(pause.multipliedBy(2L * (image.length / chunk + 1)))
        .thenConsumeWhile(e -> true)
        .expectComplete()
        .verify(TIMEOUT);
    return events.stream().filter(e -> e instanceof Progress).map(e -> (Progress) e).toList();
  }

  @Test
  void progressIsThrottledToOneEventPerIntervalAndPercentAndEndsAtOneHundredPercent() {
    // 100 chunks of 3000 bytes, one per 10 ms: 1 s in all
    List<Progress> progress = progressOf(3000, Duration.ofMillis(10), Duration.ofMillis(100));
    assertThat(progress).hasSizeBetween(9, 11);
    assertThat(progress).extracting(Progress::bytesDone).isSorted().doesNotHaveDuplicates();
    assertThat(progress.get(progress.size() - 1).bytesDone()).isEqualTo(image.length);
    assertThat(progress.get(progress.size() - 1).fraction()).hasValue(1.0);
    // 30 000 bytes per 100 ms of virtual time
    assertThat(progress.get(2).bytesPerSecond()).isCloseTo(300_000.0, org.assertj.core.data.Offset.offset(1.0));
  }

  @Test
  void progressIsAlsoThrottledByWholePercent() {
    // 3000 chunks of 100 bytes, one per 50 ms: time alone would allow ~1500 events, percent allows 100
    assertThat(progressOf(100, Duration.ofMillis(50), Duration.ofMillis(10))).hasSizeBetween(95, 101);
  }

  @Test
  void anImageLargerThanTheSlotFailsWithStorageBeforeAnyByteIsWritten() {
    InMemorySlotStore small = InMemorySlotStore.create(100_000);
    StepVerifier.create(OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).store(small)
            .update(TestImages.request()))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.STORAGE);
          assertThat(e.getMessage()).contains("larger than slot b").contains("nothing was written");
        })
        .verify(TIMEOUT);
    assertThat(small.contents(SlotId.B)).isEmpty();
    assertThat(small.status().block(TIMEOUT).next()).isEqualTo(SlotId.A);
  }

  @Test
  void anImageOfUnknownLengthLargerThanTheSlotFailsWhileStreamingAndNeverGrowsPastIt() {
    InMemorySlotStore small = InMemorySlotStore.create(100_000);
    StepVerifier.create(OtaUpdater.create().source(InMemoryFirmwareSource.of(image).withoutLength()).store(small)
            .update(TestImages.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertReason(e, Reason.STORAGE))
        .verify(TIMEOUT);
    assertThat(small.contents(SlotId.B).length).isLessThanOrEqualTo(100_000);
    assertThat(small.status().block(TIMEOUT).next()).isEqualTo(SlotId.A);
  }

  @Test
  void aServerSendingMoreThanItAnnouncedFailsWithServer() {
    TestPublisher<ByteBuffer> body = TestPublisher.create();
    FirmwareSource source = TestImages.sourceOf(10, from -> body.flux());
    StepVerifier.create(updater(source).update(TestImages.request()))
        .expectNextMatches(e -> e instanceof Resolved)
        .then(() -> awaitSubscribed(body))
        .then(() -> body.next(ByteBuffer.wrap(new byte[8]), ByteBuffer.wrap(new byte[8])))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.SERVER);
          assertThat(e.getMessage()).contains("more than the 10 bytes");
        })
        .verify(TIMEOUT);
    body.assertCancelled();
    assertStoreUnchanged();
  }

  @Test
  void aSourceErrorThatIsNotAnOtaExceptionBecomesATransientNetworkFailure() {
    TestPublisher<ByteBuffer> body = TestPublisher.create();
    FirmwareSource source = TestImages.sourceOf(100, from -> body.flux());
    StepVerifier.create(updater(source).retry(0, Duration.ofMillis(1), Duration.ofMillis(1)).update(TestImages.request()))
        .expectNextMatches(e -> e instanceof Resolved)
        .then(() -> awaitSubscribed(body))
        .then(() -> body.error(new IOException("Connection reset by peer")))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.NETWORK);
          assertThat(e.getMessage()).contains("Connection reset by peer");
        })
        .verify(TIMEOUT);
  }

  @Test
  void aSecondUpdateWhileOneRunsFailsAtOnceWithStorageBusy() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    InMemoryFirmwareSource slow = InMemoryFirmwareSource.of(image).pauseBetweenChunks(Duration.ofSeconds(1), time);
    Disposable first = updater(slow).scheduler(time).update(TestImages.request()).subscribe();
    try {
      StepVerifier.create(updater(InMemoryFirmwareSource.of(image)).update(TestImages.request()))
          .expectErrorSatisfies(e -> {
            assertReason(e, Reason.STORAGE);
            assertThat(e.getMessage()).contains("busy");
          })
          .verify(TIMEOUT);
    } finally {
      first.dispose();
    }
  }

  @Test
  void anInterruptedUpdateIsResumedByTheNextRunWhichReHashesTheDurablePrefix() {
    InMemoryFirmwareSource breaking = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(210_000);
    StepVerifier.create(updater(breaking).retry(0, Duration.ofMillis(1), Duration.ofMillis(1))
            .update(TestImages.request().withSha256(digest)))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(e.getMessage()).contains("resumes from"))
        .verify(TIMEOUT);
    assertStoreUnchanged();

    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(10_000);
    List<UpdateEvent> events = updater(source).update(TestImages.request().withSha256(digest))
        .collectList().block(TIMEOUT);
    assertThat(source.opens()).hasSize(1);
    // synced every 64 KiB of 10 000-byte chunks: at 70 000, 140 000 and 210 000, where it broke
    assertThat(source.opens().get(0).offset()).isEqualTo(210_000);
    assertThat(((Resolved) events.get(0)).resumedFrom()).isEqualTo(210_000);
    assertThat(events).contains(new Verified(SlotId.B, image.length, digest));
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
  }

  @Test
  void anotherImageAfterAnInterruptedUpdateStartsFromZero() {
    InMemoryFirmwareSource breaking = InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(210_000);
    updater(breaking).retry(0, Duration.ofMillis(1), Duration.ofMillis(1))
        .update(TestImages.request().withSha256(digest)).onErrorResume(e -> Flux.empty()).blockLast(TIMEOUT);
    byte[] other = TestImages.random(250_000, 99);
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(other);
    updater(source).install(TestImages.request().withSha256(Sha256.digest(other))).block(TIMEOUT);
    assertThat(source.opens()).containsExactly(ResumeFrom.start());
    assertThat(store.contents(SlotId.B)).isEqualTo(other);
  }

  @Test
  void aResumedPrefixCorruptedOnTheMediumFailsVerificationAndActivatesNothing() throws IOException {
    // an interrupted write whose durable prefix has one flipped bit on the medium
    byte[] corrupt = image.clone();
    corrupt[1234] ^= 0x40;
    io.otaflux.spi.SlotWriter interrupted = store.openWriter(io.otaflux.spi.ImageSpec.of(
        TestImages.request().withSha256(digest))).block(TIMEOUT);
    interrupted.write(ByteBuffer.wrap(corrupt, 0, 200_000));
    interrupted.sync(InMemoryFirmwareSource.of(image).open(TestImages.request(), ResumeFrom.start())
        .block(TIMEOUT).validator());
    interrupted.release();

    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image);
    StepVerifier.create(updater(source).update(TestImages.request().withSha256(digest)))
        .expectNextMatches(e -> e instanceof Resolved && ((Resolved) e).resumedFrom() == 200_000)
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertReason(e, Reason.INTEGRITY))
        .verify(TIMEOUT);
    assertStoreUnchanged();
  }

  @Test
  void aDownloadOnlyRequestLeavesTheImageVerifiedButNotActivated() {
    UpdateResult result = updater(InMemoryFirmwareSource.of(image))
        .install(TestImages.request().withSha256(digest).withActivation(false)).block(TIMEOUT);
    assertThat(result.activated()).isFalse();
    assertThat(store.status().block(TIMEOUT).next()).isEqualTo(SlotId.A);
    store.activate(result.slot(), result.sha256()).block(TIMEOUT);
    assertThat(store.boot().block(TIMEOUT)).isEqualTo(SlotId.B);
  }

  @Test
  void aWriteFailureIsStorageAndIsNotRetried() {
    SlotStore failing = TestImages.failingWrite(store, 5);
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image);
    StepVerifier.create(OtaUpdater.create().source(source).store(failing).update(TestImages.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.STORAGE);
          assertThat(e.getMessage()).contains("No space left on device").contains("slot b");
        })
        .verify(TIMEOUT);
    assertThat(source.opens()).hasSize(1);
    assertStoreUnchanged();
  }

  @Test
  void anUpdaterWithoutASourceOrStoreFailsWithUsage() {
    StepVerifier.create(OtaUpdater.create().store(store).update(TestImages.request()))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.USAGE);
          assertThat(e.getMessage()).contains("source(");
        })
        .verify(TIMEOUT);
    StepVerifier.create(OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).update(TestImages.request()))
        .expectErrorSatisfies(e -> assertThat(e.getMessage()).contains("store("))
        .verify(TIMEOUT);
  }

  @Test
  void settersReturnNewUpdatersAndLeaveTheTemplateAsItWas() {
    OtaUpdater template = OtaUpdater.create().source(InMemoryFirmwareSource.of(image));
    InMemorySlotStore other = InMemorySlotStore.create(MIB);
    OtaUpdater one = template.store(store);
    OtaUpdater two = template.store(other);
    assertThat(one).isNotSameAs(two).isNotSameAs(template);
    one.install(TestImages.request()).block(TIMEOUT);
    assertThat(other.status().block(TIMEOUT).next()).isEqualTo(SlotId.A);
    two.install(TestImages.request()).block(TIMEOUT);
    assertThat(other.status().block(TIMEOUT).next()).isEqualTo(SlotId.B);
    StepVerifier.create(template.update(TestImages.request()))
        .expectErrorSatisfies(e -> assertReason(e, Reason.USAGE))
        .verify(TIMEOUT);
  }

  @Test
  void nothingRunsUntilSubscribedAndEachSubscriptionRunsOneUpdate() {
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image);
    Flux<UpdateEvent> update = updater(source).update(TestImages.request());
    assertThat(source.opens()).isEmpty();
    update.blockLast(TIMEOUT);
    store.boot().block(TIMEOUT);
    store.markGood().block(TIMEOUT);
    update.blockLast(TIMEOUT);
    assertThat(source.opens()).hasSize(2);
    assertThat(store.status().block(TIMEOUT).next()).isEqualTo(SlotId.A);
  }

  @Test
  void badConfigurationIsRefusedWithUsage() {
    assertThatThrownBy(() -> OtaUpdater.create().retry(-1, Duration.ZERO, Duration.ZERO))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
    assertThatThrownBy(() -> OtaUpdater.create().chunksInFlight(0))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
    assertThatThrownBy(() -> OtaUpdater.create().syncEvery(10))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
  }
}
