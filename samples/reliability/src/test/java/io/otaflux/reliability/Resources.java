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

  /** The targets in {@code now} that {@code before} does not hold (as multisets). */
  static List<String> difference(List<String> now, List<String> before) {
    List<String> left = new java.util.ArrayList<>(now);
    before.forEach(left::remove);
    return left;
  }
}
