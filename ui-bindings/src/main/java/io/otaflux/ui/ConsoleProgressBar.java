package io.otaflux.ui;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import io.otaflux.UpdateEvent;
import io.otaflux.UpdateSession;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A progress bar for a console, with an abort key.
 *
 * <p>On a terminal it redraws one line with a carriage return:
 * <pre>
 * gw-2.0.bin [#########...............]  37%  3.7 MiB of 10.0 MiB  1.2 MiB/s  ETA 0:05  [a] abort
 * </pre>
 * Elsewhere (a log file, a pipe) it writes a plain line when the phase or message changes and at
 * every 10 % (every 10 MiB when the size is not known). A failure or abort ends with one line
 * saying so; the error's full sentence is left to the caller, who reports it once (the
 * {@code ota} command's {@code error:} line), so it is not printed twice.
 *
 * <p>Immutable and copy-on-write: every setter returns a new bar.
 *
 * <pre>{@code
 * ConsoleProgressBar bar = ConsoleProgressBar.create(System.err)
 *     .terminal(System.console() != null)   // the caller knows what stderr is
 *     .title("gw-2.0.bin")
 *     .abortKey(System.in);                  // 'a' then Enter aborts
 * Mono<Void> drawn = bar.watch(session);     // subscribe, then start the session
 * }</pre>
 *
 * <p>The library never writes to {@code System.out} or {@code System.err} itself: output goes to
 * the stream given here.
 */
public final class ConsoleProgressBar {

  private static final Logger log = LoggerFactory.getLogger(ConsoleProgressBar.class);
  private static final long PLAIN_STEP_UNKNOWN = 10L * 1024 * 1024;

  private final PrintStream out;
  private final boolean terminal;
  private final String title;
  private final int barWidth;
  private final @Nullable InputStream keys;
  private final Duration every;
  private final Scheduler timer;

  private ConsoleProgressBar(PrintStream out, boolean terminal, String title, int barWidth, @Nullable InputStream keys,
      Duration every, Scheduler timer) {
    this.out = out;
    this.terminal = terminal;
    this.title = title;
    this.barWidth = barWidth;
    this.keys = keys;
    this.every = every;
    this.timer = timer;
  }

  /**
   * A bar writing plain lines to {@code out}, titled "Firmware update", 24 cells wide, with no
   * abort key, redrawn at most every 100 ms.
   *
   * @param out where to draw (usually standard error)
   * @return the bar
   */
  public static ConsoleProgressBar create(PrintStream out) {
    Objects.requireNonNull(out, "out");
    return new ConsoleProgressBar(out, false, "Firmware update", 24, null, UpdateView.DEFAULT_EVERY,
        Schedulers.parallel());
  }

  /**
   * This bar, redrawing one line ({@code true}: the output is a terminal) or writing plain lines.
   *
   * @param terminal whether the output is a terminal
   * @return a new bar
   */
  public ConsoleProgressBar terminal(boolean terminal) {
    return new ConsoleProgressBar(out, terminal, title, barWidth, keys, every, timer);
  }

  /**
   * This bar, with another title (the image's name, say).
   *
   * @param title what is being installed
   * @return a new bar
   */
  public ConsoleProgressBar title(String title) {
    Objects.requireNonNull(title, "title");
    return new ConsoleProgressBar(out, terminal, title, barWidth, keys, every, timer);
  }

  /**
   * This bar, with a bar of {@code cells} characters.
   *
   * @param cells the bar's width, 5 to 200
   * @return a new bar
   */
  public ConsoleProgressBar barWidth(int cells) {
    if (cells < 5 || cells > 200) {
      throw new IllegalArgumentException("a bar is 5 to 200 cells wide, not " + cells);
    }
    return new ConsoleProgressBar(out, terminal, title, cells, keys, every, timer);
  }

  /**
   * This bar, aborting the watched update when a line reading {@code a} (or {@code A}) comes
   * from {@code keys}: the {@code a} key then Enter on a console.
   *
   * <p><b>Threading:</b> the keys are read on a daemon thread started by {@link #watch}. A read
   * cannot be interrupted, so the thread may stay blocked on {@code keys} after the update until
   * a line or the end of the stream comes; it aborts nothing then.
   *
   * @param keys the keyboard, usually {@code System.in}
   * @return a new bar
   */
  public ConsoleProgressBar abortKey(InputStream keys) {
    Objects.requireNonNull(keys, "keys");
    return new ConsoleProgressBar(out, terminal, title, barWidth, keys, every, timer);
  }

  /**
   * This bar, redrawing at most once per {@code every}, keeping time on {@code timer}.
   *
   * @param every the shortest time between two redraws of the same phase
   * @param timer the clock (a virtual one in tests)
   * @return a new bar
   */
  public ConsoleProgressBar throttle(Duration every, Scheduler timer) {
    Objects.requireNonNull(every, "every");
    Objects.requireNonNull(timer, "timer");
    return new ConsoleProgressBar(out, terminal, title, barWidth, keys, every, timer);
  }

  /**
   * Draws an update's events until they end; no abort key.
   *
   * <p><b>Errors:</b> never signalled: a failed update ends with a line saying so and the
   * returned {@code Mono} completes.
   *
   * @param events the update's events
   * @return completes once the last line is drawn
   */
  public Mono<Void> render(Publisher<? extends UpdateEvent> events) {
    Objects.requireNonNull(events, "events");
    return Mono.defer(() -> {
      Painter painter = new Painter();
      return UpdateView.from(events, title, every, timer).doOnNext(painter::draw).then();
    });
  }

  /**
   * Draws a session's update until it ends, and, with an {@link #abortKey abort key}, aborts it
   * when the key comes. Subscribe before {@link UpdateSession#start()} to see every event.
   *
   * <p><b>Cancellation:</b> cancelling stops drawing and listening to the key; the update goes on.
   *
   * @param session the update
   * @return completes once the last line is drawn
   */
  public Mono<Void> watch(UpdateSession session) {
    Objects.requireNonNull(session, "session");
    return Mono.defer(() -> {
      AtomicBoolean watching = new AtomicBoolean(true);
      InputStream in = keys;
      if (in != null) {
        Thread reader = new Thread(() -> readKeys(in, session, watching), "otaflux-abort-key");
        reader.setDaemon(true);
        reader.start();
      }
      return render(session.events()).doFinally(signal -> watching.set(false));
    });
  }

  private static void readKeys(InputStream in, UpdateSession session, AtomicBoolean watching) {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, Charset.defaultCharset()));
    try {
      String line;
      while (watching.get() && (line = reader.readLine()) != null) {
        if (watching.get() && line.strip().equalsIgnoreCase("a")) {
          log.debug("Abort key pressed");
          session.abort();
          return;
        }
      }
    } catch (IOException e) {
      log.debug("The abort key can no longer be read: {}", e.toString());
    }
  }

  /** The line a terminal shows for a view. */
  String terminalLine(UpdateView v) {
    StringBuilder b = new StringBuilder(120).append(title).append(" [");
    int cells = v.percent().isPresent() ? (int) ((long) v.percent().getAsInt() * barWidth / 100) : 0;
    for (int i = 0; i < barWidth; i++) {
      b.append(!v.isTotalKnown() ? '?' : i < cells ? '#' : '.');
    }
    b.append(']');
    if (v.percent().isPresent()) {
      b.append(String.format(Locale.ROOT, " %3d%%", v.percent().getAsInt()));
    }
    b.append("  ").append(ViewJson.bytesText(v));
    switch (v.state()) {
      case RUNNING:
        if (v.bytesPerSecond() > 0) {
          b.append("  ").append(HumanUnits.rate(v.bytesPerSecond()));
        }
        v.eta().ifPresent(eta -> b.append("  ETA ").append(HumanUnits.duration(eta)));
        break;
      case VERIFYING:
        b.append("  verifying");
        break;
      case DONE:
        b.append("  done: slot ").append(v.slot() == null ? "?" : v.slot().label());
        if (v.sha256() != null) {
          b.append(", sha256 ").append(v.sha256().hex());
        }
        break;
      case FAILED:
        b.append("  failed");
        break;
      case ABORTED:
        b.append("  aborted");
        break;
      default:
        throw new IllegalStateException(v.state().toString());
    }
    if (keys != null && !v.isFinal()) {
      b.append("  [a] abort");
    }
    return b.toString();
  }

  /** Draws one subscription's views; state for redraws and the plain lines' 10 % steps. */
  private final class Painter {
    private int lastLength;
    private long lastStep = 0;
    private UpdateView.@Nullable State lastState;
    private @Nullable String lastMessage;

    void draw(UpdateView v) {
      if (terminal) {
        String line = terminalLine(v);
        StringBuilder b = new StringBuilder(line.length() + lastLength + 2).append('\r').append(line);
        for (int i = line.length(); i < lastLength; i++) {
          b.append(' ');
        }
        lastLength = line.length();
        if (v.isFinal()) {
          b.append(System.lineSeparator());
        }
        out.print(b);
      } else {
        plain(v);
      }
      out.flush();
    }

    private void plain(UpdateView v) {
      if (v.state() != lastState || !v.message().equals(lastMessage)) {
        lastState = v.state();
        lastMessage = v.message();
        String text = v.message();
        if (v.state() == UpdateView.State.DONE && v.sha256() != null) {
          text += " SHA-256 " + v.sha256().hex() + ".";
        }
        out.println(title + ": " + text);
        return;
      }
      if (v.state() != UpdateView.State.RUNNING) {
        return;
      }
      long step = v.isTotalKnown() ? v.percent().orElse(0) / 10 : v.bytesDone() / PLAIN_STEP_UNKNOWN;
      if (step <= lastStep) {
        return;
      }
      lastStep = step;
      List<String> details = new ArrayList<>(3);
      String head;
      if (v.isTotalKnown()) {
        head = v.percent().orElse(0) + "%";
        details.add(ViewJson.bytesText(v));
      } else {
        head = HumanUnits.bytes(v.bytesDone());
      }
      if (v.bytesPerSecond() > 0) {
        details.add(HumanUnits.rate(v.bytesPerSecond()));
      }
      v.eta().ifPresent(eta -> details.add("ETA " + HumanUnits.duration(eta)));
      out.println(title + ": " + head + (details.isEmpty() ? "" : " (" + String.join(", ", details) + ")"));
    }
  }
}
