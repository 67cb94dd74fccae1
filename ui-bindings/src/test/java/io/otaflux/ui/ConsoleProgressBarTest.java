package io.otaflux.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class ConsoleProgressBarTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final long MIB = 1024 * 1024;
  private static final Sha256 DIGEST = Sha256.digest(new byte[] {42});

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);

  private String output() {
    return buffer.toString(StandardCharsets.UTF_8);
  }

  /** A 10 MiB update reporting every whole percent, then verified and activated. */
  private static Flux<UpdateEvent> percentByPercent() {
    List<UpdateEvent> events = new ArrayList<>();
    events.add(new UpdateEvent.Resolved(URI.create("https://fw.example.com/gw.bin"), 100 * MIB, 0, SlotId.B,
        List.of()));
    for (int i = 1; i <= 100; i++) {
      events.add(new UpdateEvent.Progress(i * MIB, 100 * MIB, 2 * MIB));
    }
    events.add(new UpdateEvent.Verified(SlotId.B, 100 * MIB, DIGEST));
    events.add(new UpdateEvent.Activated(SlotId.B));
    return Flux.fromIterable(events);
  }

  private ConsoleProgressBar bar() {
    return ConsoleProgressBar.create(out).title("gw-2.0.bin").barWidth(20)
        .throttle(Duration.ZERO, Schedulers.immediate());
  }

  @Test
  void onATerminalRedrawsOneLineWithTitleBarPercentBytesRateAndEta() {
    StepVerifier.create(bar().terminal(true).render(percentByPercent())).expectComplete().verify(TIMEOUT);

    String text = output();
    assertThat(text).startsWith("\r").endsWith(System.lineSeparator());
    assertThat(text.chars().filter(c -> c == '\n').count()).as("one line, redrawn, ended once").isEqualTo(1);
    List<String> frames = Arrays.stream(text.split("\r")).filter(f -> !f.isEmpty()).collect(Collectors.toList());
    assertThat(frames).as("one frame per event").hasSize(103);
    assertThat(frames.get(25).stripTrailing())
        .isEqualTo("gw-2.0.bin [#####...............]  25%  25.0 MiB of 100.0 MiB  2.0 MiB/s  ETA 0:37");
    assertThat(frames.get(frames.size() - 1).strip())
        .isEqualTo("gw-2.0.bin [####################] 100%  100.0 MiB of 100.0 MiB  done: slot b, sha256 "
            + DIGEST.hex());
  }

  @Test
  void aShorterLineBlanksTheRestOfTheLongerOne() {
    StepVerifier.create(bar().terminal(true).render(percentByPercent())).expectComplete().verify(TIMEOUT);

    String[] frames = output().split("\r");
    String running = frames[26];
    String verifying = frames[101];
    assertThat(verifying).contains("verifying");
    assertThat(verifying.length()).isGreaterThanOrEqualTo(running.length());
  }

  @Test
  void withAnAbortKeyTheLineOffersIt() throws IOException {
    try (PipedInputStream keys = new PipedInputStream(); PipedOutputStream typing = new PipedOutputStream(keys)) {
      Updates update = Updates.slow(64 * 1024, 8 * 1024, Duration.ofMillis(5));
      ConsoleProgressBar bar = bar().terminal(true).abortKey(keys);
      StepVerifier.create(bar.watch(update.session).doOnSubscribe(s -> update.session.start()))
          .expectComplete()
          .verify(TIMEOUT);
      typing.flush();
    }
    assertThat(output()).contains("  [a] abort").contains("done: slot b");
    assertThat(output().substring(output().lastIndexOf('\r'))).doesNotContain("[a] abort");
  }

  @Test
  void offATerminalWritesAPlainLineEveryTenPercent() {
    StepVerifier.create(bar().render(percentByPercent())).expectComplete().verify(TIMEOUT);

    String text = output();
    assertThat(text).doesNotContain("\r");
    assertThat(text.lines()).containsExactly(
        "gw-2.0.bin: Downloading into slot b.",
        "gw-2.0.bin: 10% (10.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:45)",
        "gw-2.0.bin: 20% (20.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:40)",
        "gw-2.0.bin: 30% (30.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:35)",
        "gw-2.0.bin: 40% (40.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:30)",
        "gw-2.0.bin: 50% (50.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:25)",
        "gw-2.0.bin: 60% (60.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:20)",
        "gw-2.0.bin: 70% (70.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:15)",
        "gw-2.0.bin: 80% (80.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:10)",
        "gw-2.0.bin: 90% (90.0 MiB of 100.0 MiB, 2.0 MiB/s, ETA 0:05)",
        "gw-2.0.bin: Verifying the image in slot b.",
        "gw-2.0.bin: Verified; making slot b the next boot choice.",
        "gw-2.0.bin: Done: slot b holds the new image and boots next, as a trial. SHA-256 " + DIGEST.hex() + ".");
  }

  @Test
  void offATerminalAJumpOverSeveralStepsWritesOneLine() {
    Flux<UpdateEvent> events = Flux.just(
        new UpdateEvent.Resolved(URI.create("https://fw.example.com/gw.bin"), 100, 0, SlotId.B, List.of()),
        new UpdateEvent.Progress(5, 100, 0), new UpdateEvent.Progress(47, 100, 0),
        new UpdateEvent.Progress(49, 100, 0), new UpdateEvent.Progress(51, 100, 0));
    StepVerifier.create(bar().render(events)).expectComplete().verify(TIMEOUT);

    assertThat(output().lines()).containsExactly(
        "gw-2.0.bin: Downloading into slot b.",
        "gw-2.0.bin: 47% (47 B of 100 B)",
        "gw-2.0.bin: 51% (51 B of 100 B)",
        "gw-2.0.bin: The update failed.");
  }

  @Test
  void aFailureEndsWithOneLineAndTheRenderingCompletes() {
    Updates update = Updates.failing(OtaException.of(Reason.TRUST, "The server is not trusted."));

    StepVerifier.create(bar().terminal(true).watch(update.session).doOnSubscribe(s -> update.session.start()))
        .expectComplete()
        .verify(TIMEOUT);

    assertThat(output()).endsWith("failed" + System.lineSeparator());
    assertThat(output()).as("the caller reports the sentence once").doesNotContain("not trusted");
  }

  @Test
  void theAbortKeyAbortsTheUpdateAndLeavesTheStoreAsItWas() throws Exception {
    Updates update = Updates.slow(4 * 1024 * 1024, 8 * 1024, Duration.ofMillis(5));
    StoreStatus before = update.store.status().block(TIMEOUT);
    try (PipedInputStream keys = new PipedInputStream(); PipedOutputStream typing = new PipedOutputStream(keys)) {
      ConsoleProgressBar bar = bar().abortKey(keys);

      StepVerifier.create(bar.watch(update.session).doOnSubscribe(s -> update.session.start()))
          .then(() -> StepVerifier.create(update.session.events().ofType(UpdateEvent.Progress.class).take(1))
              .expectNextCount(1).expectComplete().verify(TIMEOUT))
          .then(() -> type(typing, "x\n"))
          .then(() -> type(typing, "a\n"))
          .expectComplete()
          .verify(TIMEOUT);
    }

    StepVerifier.create(update.session.result())
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(Reason.ABORTED))
        .verify(TIMEOUT);
    assertThat(output().lines()).last().isEqualTo("gw-2.0.bin: The update was aborted.");
    StoreStatus after = update.store.status().block(TIMEOUT);
    assertThat(after.active()).isEqualTo(before.active()).isEqualTo(SlotId.A);
    assertThat(after.next()).isEqualTo(before.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(SlotId.A)).isEqualTo(before.slot(SlotId.A));
    assertThat(after.slot(SlotId.B).state()).isNotIn(SlotState.TRIAL, SlotState.GOOD);
  }

  private static void type(PipedOutputStream typing, String keys) {
    try {
      typing.write(keys.getBytes(StandardCharsets.UTF_8));
      typing.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
