package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.netty.util.internal.PlatformDependent;
import io.otaflux.transport.testing.RecordingLeakDetector;

/** What a process holds: open file descriptors, live threads, heap and direct memory. */
record Resources(long fds, int threads, long heap, long direct) {

  private static final long SETTLE_MILLIS = 5_000;
  /** Heap after GC may differ by this much over a run of many updates (JIT, class metadata caches, the JUnit report). */
  static final long HEAP_SLACK = 8L << 20;
  /** Direct memory may differ by this much: less than one chunk of Netty's pooled arenas. */
  static final long DIRECT_SLACK = 4L << 20;
  static final int THREAD_SLACK = 3;
  static final int FD_SLACK = 3;

  static Resources now() {
    return new Resources(openFds(), liveThreads(), heapAfterGc(false), usedDirect());
  }

  static Resources nowAfterGc() {
    return new Resources(openFds(), liveThreads(), heapAfterGc(true), usedDirect());
  }

  /**
   * Live threads, without the workers of Reactor's bounded-elastic pools (the write scheduler
   * among them): those are capped and live on idle for their TTL (60 s) by design, so they are
   * counted by the soak test against their cap, not per case.
   */
  static int liveThreads() {
    return (int) Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .filter(t -> !isPooled(t)).count();
  }

  static int allThreads() {
    return Thread.getAllStackTraces().size();
  }

  static boolean isPooled(Thread t) {
    String name = t.getName();
    return name.startsWith("boundedElastic-") || name.startsWith("otaflux-write-");
  }

  static long openFds() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static long usedDirect() {
    long netty = PlatformDependent.usedDirectMemory();
    long nio = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    return Math.max(netty, 0) + nio;
  }

  static long heapAfterGc(boolean gc) {
    Runtime rt = Runtime.getRuntime();
    if (gc) {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  /**
   * Waits (polling, at most 5 s) until file descriptors and threads are back within
   * {@code tolerance} of {@code before}, then asserts it; the failure lists the threads.
   */
  static void assertSettled(Resources before, int tolerance) {
    long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
    long fds = openFds();
    int threads = liveThreads();
    while ((fds > before.fds() + tolerance || threads > before.threads() + tolerance)
        && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
      try {
        Thread.sleep(20); // polling a condition with a deadline, not a blind wait
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      fds = openFds();
      threads = liveThreads();
    }
    assertThat(fds).as("open file descriptors (before %d): %s", before.fds(), fdTargets())
        .isLessThanOrEqualTo(before.fds() + tolerance);
    assertThat(threads).as("live threads (before %d): %s", before.threads(), threadNames())
        .isLessThanOrEqualTo(before.threads() + tolerance);
  }

  /** Descriptors, all threads (pooled ones too), heap after GC and direct memory, now. */
  static Resources snapshot() {
    Resources r = nowAfterGc();
    return new Resources(r.fds(), allThreads(), r.heap(), r.direct());
  }

  /**
   * A snapshot once descriptors and threads are back within their slack of {@code baseline}
   * (sockets and proxy loops close asynchronously, some only once collected), or after
   * {@code patience} if they never are.
   */
  static Resources settled(Resources baseline, java.time.Duration patience) {
    return settled(baseline, patience, Resources::allThreads);
  }

  /**
   * As {@link #settled(Resources, java.time.Duration)}, with the threads counted by {@code threads}
   * (and {@code baseline.threads()} counted the same way): {@link #liveThreads()} leaves out Reactor's
   * pooled workers, which idle out only after 60 s and are capped, not leaked.
   */
  static Resources settled(Resources baseline, java.time.Duration patience, java.util.function.IntSupplier threads) {
    return settled(baseline, patience, threads, FD_SLACK);
  }

  /** As {@link #settled(Resources, java.time.Duration)}, waiting for the descriptors to be within {@code fdSlack}. */
  static Resources settled(Resources baseline, java.time.Duration patience, java.util.function.IntSupplier threads,
      int fdSlack) {
    long deadline = System.nanoTime() + patience.toNanos();
    // the counts are cheap, the snapshot collects garbage three times: poll the counts, with a
    // collection every half second (some descriptors close only once collected), then one snapshot
    for (int polls = 1; (openFds() > baseline.fds() + fdSlack || threads.getAsInt() > baseline.threads() + THREAD_SLACK)
        && System.nanoTime() < deadline; polls++) {
      try {
        Thread.sleep(20); // polling for sockets and proxy loops to close, with a deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (polls % 25 == 0) {
        System.gc();
      }
    }
    return snapshot();
  }

  /** Asserts that over a run heap, direct memory, threads and descriptors went from {@code baseline} to {@code after} within their slack. */
  static void assertFlat(Resources baseline, Resources after) {
    assertThat(after.heap()).as("heap after GC").isLessThanOrEqualTo(baseline.heap() + HEAP_SLACK);
    assertThat(after.direct()).as("direct memory").isLessThanOrEqualTo(baseline.direct() + DIRECT_SLACK);
    assertThat(after.threads()).as("threads: %s", threadNames()).isLessThanOrEqualTo(baseline.threads() + THREAD_SLACK);
    assertThat(after.fds()).as("descriptors: %s", fdTargets()).isLessThanOrEqualTo(baseline.fds() + FD_SLACK);
  }

  /** Fails when Netty reported a leaked buffer since the last call. */
  static void assertNoNettyLeaks() {
    RecordingLeakDetector.collect();
    List<String> leaks = RecordingLeakDetector.drain();
    assertThat(leaks).as("Netty buffer leaks").isEmpty();
  }

  static String threadNames() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted()
        .collect(Collectors.joining(", "));
  }

  static String fdTargets() {
    return String.join(", ", fdTargetList());
  }

  /** What each open descriptor points at (a file, {@code socket:[inode]}, {@code pipe:[inode]}...), sorted. */
  static List<String> fdTargetList() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.map(p -> {
        try {
          return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
          return "?"; // the descriptor listing the directory itself, closed by now
        }
      }).sorted().collect(Collectors.toList());
    } catch (IOException e) {
      return List.of(e.toString());
    }
  }

  /**
   * What each open descriptor points at, with a socket resolved through {@code /proc/net/tcp},
   * {@code tcp6} and {@code unix} to its kind, addresses and TCP state (for example
   * {@code tcp 127.0.0.1:40000->127.0.0.1:35000 ESTABLISHED}), sorted.
   */
  static List<String> describedFdTargets() {
    java.util.Map<String, String> sockets = sockets();
    return fdTargetList().stream().map(t -> {
      if (t.startsWith("socket:[")) {
        return sockets.getOrDefault(t.substring(8, t.length() - 1), t);
      }
      return t;
    }).sorted().collect(Collectors.toList());
  }

  private static final String[] TCP_STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
      "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"};

  /** Socket inode to a description, from the kernel's tables of this network namespace. */
  private static java.util.Map<String, String> sockets() {
    java.util.Map<String, String> byInode = new java.util.HashMap<>();
    for (String table : List.of("tcp", "tcp6")) {
      for (String line : lines(Path.of("/proc/net", table))) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 10 || f[0].equals("sl")) {
          continue;
        }
        int state = Integer.parseInt(f[3], 16);
        byInode.put(f[9], "tcp " + address(f[1]) + "->" + address(f[2]) + " "
            + (state < TCP_STATES.length ? TCP_STATES[state] : f[3]));
      }
    }
    for (String line : lines(Path.of("/proc/net/unix"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 7 && !f[0].equals("Num")) {
        byInode.put(f[6], "unix " + (f.length > 7 ? f[7] : "(unnamed)"));
      }
    }
    return byInode;
  }

  private static List<String> lines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (IOException e) {
      return List.of();
    }
  }

  /** {@code 0100007F:1F90} (or the IPv6 form) as {@code 127.0.0.1:8080}; IPv6 addresses only by port. */
  private static String address(String hex) {
    String[] parts = hex.split(":");
    int port = Integer.parseInt(parts[1], 16);
    if (parts[0].length() == 8) {
      long a = Long.parseLong(parts[0], 16);
      return (a & 0xff) + "." + (a >> 8 & 0xff) + "." + (a >> 16 & 0xff) + "." + (a >> 24 & 0xff) + ":" + port;
    }
    return "[v6]:" + port;
  }

  /** How many descriptors of each kind: sockets by TCP state, pipes, event fds, files. */
  static java.util.Map<String, Long> fdKinds(List<String> described) {
    return described.stream().collect(Collectors.groupingBy(t -> {
      if (t.startsWith("tcp ")) {
        return "tcp " + t.substring(t.lastIndexOf(' ') + 1);
      }
      if (t.startsWith("/")) {
        return t.endsWith(".jar") ? "jar" : "file";
      }
      int bracket = t.indexOf(":[");
      return bracket > 0 && !t.startsWith("anon_inode") ? t.substring(0, bracket) : t.replaceAll(" .*", "");
    }, java.util.TreeMap::new, Collectors.counting()));
  }

  /** The targets in {@code now} that {@code before} does not hold (as multisets). */
  static List<String> difference(List<String> now, List<String> before) {
    List<String> left = new java.util.ArrayList<>(now);
    before.forEach(left::remove);
    return left;
  }
}
