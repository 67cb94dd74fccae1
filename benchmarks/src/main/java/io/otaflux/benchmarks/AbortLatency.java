package io.otaflux.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateSession;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;

/**
 * Abort latency, at random points of real downloads from a local HTTPS server.
 *
 * <ul>
 *   <li>{@code api URL CA SCRATCH N}: in one JVM, {@link UpdateSession#abort()} after a random
 *       delay; measures until the client socket has left ESTABLISHED ({@code /proc/net/tcp}) and
 *       until the result has failed with ABORTED (which {@code usingWhen} signals only after the
 *       writer's abort has run: writer stopped, store released).</li>
 *   <li>{@code cli JAR URL CA SCRATCH N}: starts {@code java -Xmx48m -jar JAR update ...}, waits
 *       for its "Downloading" line, sends SIGINT after a random delay; measures until the process
 *       has exited (and checks exit code 8).</li>
 * </ul>
 * Prints p50, p99 and max in milliseconds.
 */
public final class AbortLatency {

  private AbortLatency() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: AbortLatency api URL CA SCRATCH N | cli JAR URL CA SCRATCH N");
      System.exit(2);
    }
    if ("api".equals(args[0])) {
      api(args[1], Path.of(args[2]), Path.of(args[3]), Integer.parseInt(args[4]));
    } else {
      cli(Path.of(args[1]), args[2], Path.of(args[3]), Path.of(args[4]), Integer.parseInt(args[5]));
    }
    System.exit(0);
  }

  static void api(String url, Path ca, Path scratch, int n) throws Exception {
    Random random = new Random(42);
    int port = java.net.URI.create(url).getPort();
    HttpsFirmwareSource source = HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(ca));
    List<Double> socket = new ArrayList<>();
    List<Double> writer = new ArrayList<>();
    int completed = 0;
    for (int i = 0; i < n; i++) {
      Path dir = Files.createTempDirectory(scratch, "abort");
      OtaUpdater updater = OtaUpdater.create().source(source).store(FileSlotStore.init(dir, 2L << 30));
      UpdateSession session = updater.session(UpdateRequest.of(url)).start();
      long delayMicros = (long) (random.nextDouble() * 1_500_000);
      TimeUnit.MICROSECONDS.sleep(delayMicros);
      long t0 = System.nanoTime();
      session.abort();
      Throwable failure = null;
      try {
        session.result().block(Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        failure = e;
      }
      long tWriter = System.nanoTime();
      long tSocket = waitSocketClosed(port, t0);
      if (!(failure instanceof OtaException) || ((OtaException) failure).reason() != OtaException.Reason.ABORTED) {
        completed++;
      } else {
        writer.add((tWriter - t0) / 1e6);
        socket.add((tSocket - t0) / 1e6);
      }
      SyncIntervalBenchmark.delete(dir);
    }
    report("api abort -> writer stopped (result ABORTED)", writer, completed);
    report("api abort -> client socket closed", socket, completed);
  }

  /** The nano time at which no client socket to {@code port} is ESTABLISHED any more. */
  static long waitSocketClosed(int port, long since) throws IOException, InterruptedException {
    String remote = String.format(Locale.ROOT, ":%04X", port);
    long deadline = since + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      boolean open = false;
      for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && f[2].endsWith(remote) && "01".equals(f[3])) {
          open = true;
          break;
        }
      }
      if (!open) {
        return System.nanoTime();
      }
      TimeUnit.MICROSECONDS.sleep(200);
    }
    throw new IllegalStateException("the client socket stayed open 10 s after the abort");
  }

  static void cli(Path jar, String url, Path ca, Path scratch, int n) throws Exception {
    Random random = new Random(43);
    List<Double> exit = new ArrayList<>();
    int completed = 0;
    int wrongCode = 0;
    for (int i = 0; i < n; i++) {
      Path dir = Files.createTempDirectory(scratch, "abort-cli");
      Process p = new ProcessBuilder("java", "-Xmx48m", "-jar", jar.toString(), "update", url, "--slots",
          dir.resolve("slots").toString(), "--root-cert", ca.toString(), "--no-progress")
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = err.readLine()) != null && !line.startsWith("Downloading")) {
        // wait for the download to start
      }
      long delayMicros = (long) (random.nextDouble() * 1_500_000);
      TimeUnit.MICROSECONDS.sleep(delayMicros);
      long t0 = System.nanoTime();
      new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
      Thread drain = new Thread(() -> {
        try {
          while (err.readLine() != null) {
            // drain, so the process never blocks on a full pipe
          }
        } catch (IOException e) {
          // the process is gone
        }
      });
      drain.start();
      p.waitFor();
      long t1 = System.nanoTime();
      drain.join();
      if (p.exitValue() == 0) {
        completed++;
      } else {
        if (p.exitValue() != 8) {
          wrongCode++;
        }
        exit.add((t1 - t0) / 1e6);
      }
      SyncIntervalBenchmark.delete(dir);
    }
    report("SIGINT to the CLI -> process exited", exit, completed);
    if (wrongCode > 0) {
      System.out.println("  " + wrongCode + " aborted runs exited with a code other than 8");
    }
  }

  static void report(String what, List<Double> ms, int completed) {
    List<Double> sorted = new ArrayList<>(ms);
    Collections.sort(sorted);
    System.out.printf(Locale.ROOT, "%s: n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms (finished before the abort: %d)%n",
        what, sorted.size(), percentile(sorted, 50), percentile(sorted, 99),
        sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1), completed);
  }

  static double percentile(List<Double> sorted, int p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}
