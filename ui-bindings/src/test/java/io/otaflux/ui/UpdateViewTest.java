package io.otaflux.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.ui.UpdateView.State;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class UpdateViewTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final URI SOURCE = URI.create("https://fw.example.com/gw-2.0.bin");
  private static final Sha256 DIGEST = Sha256.digest(new byte[] {1, 2, 3});
  private static final long MIB = 1024 * 1024;

  private static UpdateEvent resolved(long total) {
    return new UpdateEvent.Resolved(SOURCE, total, 0, SlotId.B, List.of());
  }

  private static UpdateEvent progress(long done, long total) {
    return new UpdateEvent.Progress(done, total, MIB);
  }

  private static Flux<UpdateView> unthrottled(Flux<UpdateEvent> events) {
    return UpdateView.from(events, "gw-2.0.bin", Duration.ZERO, Schedulers.immediate());
  }

  @Test
  void mapsASuccessfulUpdateToRunningVerifyingAndDone() {
    Flux<UpdateEvent> events = Flux.just(resolved(4 * MIB), progress(MIB, 4 * MIB), progress(4 * MIB, 4 * MIB),
        new UpdateEvent.Verified(SlotId.B, 4 * MIB, DIGEST), new UpdateEvent.Activated(SlotId.B));

    StepVerifier.create(unthrottled(events))
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.RUNNING);
          assertThat(v.message()).isEqualTo("Downloading into slot b.");
          assertThat(v.percent()).hasValue(0);
          assertThat(v.slot()).isEqualTo(SlotId.B);
        })
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.RUNNING);
          assertThat(v.percent()).hasValue(25);
          assertThat(v.bytesDone()).isEqualTo(MIB);
          assertThat(v.bytesPerSecond()).isEqualTo(MIB);
          assertThat(v.eta()).hasValue(Duration.ofSeconds(3));
        })
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.VERIFYING);
          assertThat(v.percent()).hasValue(100);
          assertThat(v.eta()).isEmpty();
        })
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.VERIFYING);
          assertThat(v.sha256()).isEqualTo(DIGEST);
        })
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.DONE);
          assertThat(v.isFinal()).isTrue();
          assertThat(v.slot()).isEqualTo(SlotId.B);
          assertThat(v.sha256()).isEqualTo(DIGEST);
          assertThat(v.error()).isNull();
          assertThat(v.message()).contains("slot b").contains("boots next");
        })
        .verifyComplete();
  }

  @Test
  void aFailureBecomesAFailedViewWithTheHumanSentenceInsteadOfAnError() {
    OtaException trust = OtaException.of(Reason.TRUST,
        "The server's certificate is not signed by the given root; check --root-cert.");
    Flux<UpdateEvent> events = Flux.concat(Flux.just(resolved(4 * MIB), progress(MIB, 4 * MIB)), Flux.error(trust));

    StepVerifier.create(unthrottled(events))
        .expectNextCount(2)
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.FAILED);
          assertThat(v.error()).isEqualTo(trust.getMessage());
          assertThat(v.reason()).isEqualTo(Reason.TRUST);
          assertThat(v.bytesDone()).as("keeps how far it got").isEqualTo(MIB);
          assertThat(v.sha256()).isNull();
        })
        .verifyComplete();
  }

  @Test
  void reasonAbortedBecomesAnAbortedView() {
    Flux<UpdateEvent> events = Flux.concat(Flux.just(resolved(4 * MIB)),
        Flux.error(OtaException.of(Reason.ABORTED, "The update was aborted; nothing changed.")));

    StepVerifier.create(unthrottled(events).last())
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.ABORTED);
          assertThat(v.message()).isEqualTo("The update was aborted.");
          assertThat(v.error()).isEqualTo("The update was aborted; nothing changed.");
        })
        .verifyComplete();
  }

  @Test
  void anErrorThatIsNoOtaExceptionStillEndsAsAFailedView() {
    StepVerifier.create(unthrottled(Flux.error(new IllegalStateException("disk on fire"))))
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.FAILED);
          assertThat(v.error()).isEqualTo("The update failed: disk on fire.");
          assertThat(v.reason()).isNull();
        })
        .verifyComplete();
  }

  @Test
  void eventsEndingWithoutAVerifiedImageEndFailed() {
    StepVerifier.create(unthrottled(Flux.just(resolved(4 * MIB))).last())
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.FAILED);
          assertThat(v.error()).contains("without verifying");
        })
        .verifyComplete();
  }

  @Test
  void aVerifiedImageThatIsNotActivatedIsDone() {
    StepVerifier.create(unthrottled(Flux.just(resolved(10), new UpdateEvent.Verified(SlotId.B, 10, DIGEST))).last())
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.DONE);
          assertThat(v.message()).contains("not made the boot choice");
        })
        .verifyComplete();
  }

  @Test
  void retryingShowsTheResumeOffset() {
    OtaException lost = OtaException.transientFailure(Reason.NETWORK, "The connection was lost.", null);
    StepVerifier.create(unthrottled(Flux.just(resolved(4 * MIB), new UpdateEvent.Retrying(2, MIB, lost))).take(2))
        .expectNextCount(1)
        .assertNext(v -> {
          assertThat(v.state()).isEqualTo(State.RUNNING);
          assertThat(v.message()).isEqualTo("Connection trouble; trying again from 1.0 MiB (attempt 2).");
          assertThat(v.bytesDone()).isEqualTo(MIB);
        })
        .verifyComplete();
  }

  @Test
  void throttlesRunningViewsButShowsEveryChangeOfStateAtOnce() {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    Sinks.Many<UpdateEvent> events = Sinks.many().unicast().onBackpressureBuffer();

    StepVerifier.create(UpdateView.from(events.asFlux(), "gw", Duration.ofMillis(100), clock))
        .then(() -> {
          events.tryEmitNext(resolved(100 * MIB));
          for (int i = 1; i <= 50; i++) {
            events.tryEmitNext(progress(i * MIB, 100 * MIB));
          }
        })
        .assertNext(v -> assertThat(v.bytesDone()).as("the first view of a phase at once").isZero())
        .expectNoEvent(Duration.ZERO)
        .then(() -> clock.advanceTimeBy(Duration.ofMillis(100)))
        .assertNext(v -> assertThat(v.percent()).as("then the latest, once per interval").hasValue(50))
        .then(() -> events.tryEmitNext(progress(60 * MIB, 100 * MIB)))
        .then(() -> events.tryEmitNext(new UpdateEvent.Verified(SlotId.B, 100 * MIB, DIGEST)))
        .assertNext(v -> assertThat(v.percent()).as("the pending view is not dropped").hasValue(60))
        .assertNext(v -> assertThat(v.state()).as("a new state shows at once").isEqualTo(State.VERIFYING))
        .then(() -> events.tryEmitError(OtaException.of(Reason.STORAGE, "The disk is full.")))
        .assertNext(v -> assertThat(v.state()).isEqualTo(State.FAILED))
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void anUnknownSizeHasNoPercentAndNoEta() {
    UpdateView v = UpdateView.initial("gw").next(resolved(UpdateEvent.UNKNOWN_SIZE))
        .next(progress(3 * MIB, UpdateEvent.UNKNOWN_SIZE));
    assertThat(v.isTotalKnown()).isFalse();
    assertThat(v.percent()).isEmpty();
    assertThat(v.eta()).isEmpty();
    assertThat(v.state()).isEqualTo(State.RUNNING);
  }

  @Test
  void percentIsRightForImagesOverTwoGibibytes() {
    long total = 6L * 1024 * MIB;
    UpdateView v = UpdateView.initial("gw").next(resolved(total)).next(progress(total / 2, total));
    assertThat(v.percent()).hasValue(50);
    assertThat(v.eta()).hasValue(Duration.ofSeconds(3L * 1024));
    assertThat(UpdateView.initial("gw").next(resolved(total)).next(progress(total - 1, total)).percent())
        .as("100 only when every byte is there").hasValue(99);
  }

  @Test
  void aSessionAbortedBeforeItStartsEndsInAnAbortedView() {
    Updates update = Updates.slow(64 * 1024, 4096, Duration.ofMillis(10));
    Flux<UpdateView> views = UpdateView.from(update.session.events(), "gw");
    update.session.start();
    update.session.abort();

    StepVerifier.create(views.last())
        .assertNext(v -> assertThat(v.state()).isEqualTo(State.ABORTED))
        .expectComplete()
        .verify(TIMEOUT);
  }
}
