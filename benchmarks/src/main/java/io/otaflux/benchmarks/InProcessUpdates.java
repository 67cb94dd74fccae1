package io.otaflux.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.otaflux.OtaUpdater;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;

/**
 * The data path as a gateway embeds it: one JVM, one file store, several updates in a row (each
 * downloaded over TLS, hashed, written, synced, verified and activated, then booted and marked
 * good so that the next one may write the other slot), interleaved with the floor measured as
 * processes from the same JVM: the TLS download alone ({@code curl -o /dev/null}) and the synced
 * write of the same bytes ({@code dd conv=fsync}).
 *
 * <p>{@code InProcessUpdates URL CA IMAGE SCRATCH WARMUP REPS}: prints one line per repetition
 * and the medians; the ratio is taken within each repetition (ours / the slower of curl and dd),
 * then the median.
 */
public final class InProcessUpdates {

  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private InProcessUpdates() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: InProcessUpdates URL CA IMAGE SCRATCH WARMUP REPS");
      System.exit(2);
    }
    String url = args[0];
    Path ca = Path.of(args[1]);
    Path image = Path.of(args[2]);
    Path scratch = Path.of(args[3]);
    int warmup = Integer.parseInt(args[4]);
    int reps = Integer.parseInt(args[5]);
    long size = Files.size(image);

    Files.createDirectories(scratch);
    Path dir = Files.createTempDirectory(scratch, "inproc");
    FileSlotStore store = FileSlotStore.init(dir, size);
    OtaUpdater updater = OtaUpdater.create()
        .source(levers(HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(ca))))
        .store(store);
    int chunks = Integer.getInteger("inproc.chunks", 0);
    if (chunks > 0) {
      updater = updater.chunksInFlight(chunks); // an A/B of the publishOn prefetch, not the default
    }
    long syncEvery = Long.getLong("inproc.syncEvery", 0);
    if (syncEvery > 0) {
      updater = updater.syncEvery(syncEvery); // an A/B of the journal's interval, not the default
    }

    for (int i = 0; i < warmup; i++) {
      update(updater, store, url, size);
    }
    measured = true;
    List<Double> ours = new ArrayList<>();
    List<Double> oursCpu = new ArrayList<>();
    List<Double> curl = new ArrayList<>();
    List<Double> dd = new ArrayList<>();
    List<Double> ratio = new ArrayList<>();
    List<Double> cpuRatio = new ArrayList<>();
    String[] curlCommand = {"curl", "-sS", "--cacert", ca.toString(), "-o", "/dev/null", url};
    String[] ddCommand = {"dd", "if=" + image, "of=" + scratch.resolve("dd.img"), "bs=1M", "conv=fsync", "status=none"};
    for (int rep = 1; rep <= reps; rep++) {
      double[] o;
      double[] c;
      double[] d;
      // alternate the order so drift (page cache, other load) falls on both sides
      if (rep % 2 == 1) {
        o = update(updater, store, url, size);
        c = run(scratch, curlCommand);
        d = run(scratch, ddCommand);
      } else {
        d = run(scratch, ddCommand);
        c = run(scratch, curlCommand);
        o = update(updater, store, url, size);
      }
      Files.deleteIfExists(scratch.resolve("dd.img"));
      ours.add(o[0]);
      oursCpu.add(o[1]);
      curl.add(c[0]);
      dd.add(d[0]);
      ratio.add(o[0] / Math.max(c[0], d[0]));
      cpuRatio.add(o[1] / (c[1] + d[1]));
      System.out.printf(Locale.ROOT, "rep %d: ours %.2f s (%.2f CPU-s), curl %.2f s (%.2f), dd %.2f s (%.2f),"
          + " ours/floor %.2f, ours CPU/(curl+dd) CPU %.2f%n",
          rep, o[0], o[1], c[0], c[1], d[0], d[1], o[0] / Math.max(c[0], d[0]), o[1] / (c[1] + d[1]));
    }
    System.out.printf(Locale.ROOT,
        "%d MiB, %d updates in one JVM after %d warm-up: median ours %.2f s (%.2f CPU-s), curl %.2f s, dd %.2f s,"
        + " ours/floor %.2f, ours CPU/(curl+dd) %.2f%n",
        size >> 20, reps, warmup, median(ours), median(oursCpu), median(curl), median(dd), median(ratio),
        median(cpuRatio));
    java.util.Map<String, Double> total = new java.util.TreeMap<>();
    threadTimes().values().forEach(t -> total.merge(t.name(), t.seconds(), Double::sum));
    System.out.println("CPU seconds by thread (all runs, live threads):");
    print(total, 1);
    // what a long-lived gateway pays per GiB once warm: the measured updates only, without the warm-up's
    // class loading, interpretation and compilation
    double gib = (double) size * reps / (1L << 30);
    System.out.printf(Locale.ROOT, "CPU seconds per GiB by thread (the %d measured updates, %.2f GiB):%n", reps, gib);
    print(duringUpdates, gib);
    SyncIntervalBenchmark.delete(dir);
    System.exit(0);
  }

  /**
   * The transport levers of issue 18 as A/B switches (system properties, none set by default):
   * {@code inproc.recvMax} the largest socket read (Netty's adaptive receive buffer),
   * {@code inproc.rcvbuf} SO_RCVBUF, {@code inproc.maxChunk} the HTTP decoder's largest body chunk.
   */
  @SuppressWarnings("deprecation")
  static HttpsFirmwareSource levers(HttpsFirmwareSource source) {
    int recvMax = Integer.getInteger("inproc.recvMax", 0);
    int rcvbuf = Integer.getInteger("inproc.rcvbuf", 0);
    int maxChunk = Integer.getInteger("inproc.maxChunk", 0);
    if (recvMax == 0 && rcvbuf == 0 && maxChunk == 0) {
      return source;
    }
    return source.httpClient(client -> {
      reactor.netty.http.client.HttpClient c = client;
      if (recvMax > 0) {
        c = c.option(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR,
            new io.netty.channel.AdaptiveRecvByteBufAllocator(64, Math.min(2048, recvMax), recvMax));
      }
      if (rcvbuf > 0) {
        c = c.option(io.netty.channel.ChannelOption.SO_RCVBUF, rcvbuf);
      }
      if (maxChunk > 0) {
        c = c.httpResponseDecoder(spec -> spec.maxChunkSize(maxChunk));
      }
      return c;
    });
  }

  /** One update into the inactive slot, activated, booted and marked good; returns its seconds. */
  static double[] update(OtaUpdater updater, FileSlotStore store, String url, long size) throws IOException {
    Runtime.getRuntime().gc(); // no garbage of the last run in this one
    java.util.Map<String, ThreadTime> before = threadTimes();
    long c0 = CPU.getProcessCpuTime();
    long t0 = System.nanoTime();
    UpdateResult result = updater.install(UpdateRequest.of(url)).block(Duration.ofMinutes(10));
    long t1 = System.nanoTime();
    long c1 = CPU.getProcessCpuTime();
    if (result == null || result.size() != size) {
      throw new IllegalStateException("the update did not install the whole image: " + result);
    }
    if (measured) {
      // by thread id: a pooled thread that dies while idle between updates must not count against the next
      threadTimes().forEach((tid, t) -> {
        ThreadTime was = before.get(tid);
        duringUpdates.merge(t.name(), t.seconds() - (was == null ? 0 : was.seconds()), Double::sum);
      });
    }
    store.boot().then(store.markGood()).block(Duration.ofMinutes(1));
    return new double[] {(t1 - t0) / 1e9, (c1 - c0) / 1e9};
  }

  /** Runs a command under GNU time; returns its wall and user+sys seconds. */
  static double[] run(Path scratch, String... command) throws IOException, InterruptedException {
    Path times = scratch.resolve("time.out");
    List<String> timed = new ArrayList<>(List.of("/usr/bin/time", "-o", times.toString(), "-f", "%e %U %S"));
    timed.addAll(List.of(command));
    Process p = new ProcessBuilder(timed).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(command[0] + " failed");
    }
    String[] f = Files.readString(times).trim().split("\\s+");
    return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]) + Double.parseDouble(f[2])};
  }

  /** Whether the warm-up is over. */
  private static boolean measured;
  /** CPU seconds by thread group, summed over the measured updates. */
  private static final java.util.Map<String, Double> duringUpdates = new java.util.TreeMap<>();

  /** A thread's group (its name without the trailing number) and CPU seconds so far. */
  record ThreadTime(String name, double seconds) {
  }

  /** CPU seconds of each live thread of this process so far, by thread id (from /proc). */
  static java.util.Map<String, ThreadTime> threadTimes() throws IOException {
    java.util.Map<String, ThreadTime> byTid = new java.util.HashMap<>();
    long ticks = 100; // USER_HZ on Linux
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+$", "#");
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) ticks;
        byTid.put(task.getFileName().toString(), new ThreadTime(name, cpu));
      }
    }
    return byTid;
  }

  /** The groups' seconds divided by {@code per}, largest first, with their sum; tiny ones left out. */
  static void print(java.util.Map<String, Double> seconds, double per) {
    seconds.entrySet().stream().filter(e -> e.getValue() / per >= 0.02)
        .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> System.out.printf(Locale.ROOT, "  %-24s %.2f%n", e.getKey(), e.getValue() / per));
    System.out.printf(Locale.ROOT, "  %-24s %.2f%n", "(all threads)",
        seconds.values().stream().mapToDouble(Double::doubleValue).sum() / per);
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
