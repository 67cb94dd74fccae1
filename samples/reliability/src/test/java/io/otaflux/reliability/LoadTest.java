package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.WAIT;
import static io.otaflux.reliability.Bench.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.FaultProxy.Fault;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Load and soak: many updates with random faults in one JVM, and concurrent updates into
 * separate stores; heap (after GC), direct memory, threads and descriptors must not grow.
 */
class LoadTest {

  /** Heap after GC may differ by this much (JIT, class metadata caches, the JUnit report). */
  private static final long HEAP_SLACK = 8L << 20;
  /** Direct memory may differ by this much: less than one chunk of Netty's pooled arenas. */
  private static final long DIRECT_SLACK = 4L << 20;
  private static final int THREAD_SLACK = 3;
  private static final int FD_SLACK = 3;

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(400_000, 31);

  private enum Kind { CLEAN, CUT_RESUMED, RESET, STALL, FLIP, NOT_FOUND, WRONG_DIGEST, SERVER_ERROR }

  /** One update with {@code kind} of fault; returns whether it installed. */
  private boolean once(Device device, TestServer server, Kind kind) {
    Sha256 digest = Sha256.digest(image);
    UpdateRequest request;
    FaultProxy proxy = null;
    int retries = 1;
    switch (kind) {
      case CUT_RESUMED -> proxy = FaultProxy.start(server.port(), new Fault.Cut(250_000), 1);
      case RESET -> proxy = FaultProxy.start(server.port(), new Fault.Reset(100_000));
      case STALL -> proxy = FaultProxy.start(server.port(), new Fault.Stall(100_000));
      case FLIP -> {
        proxy = FaultProxy.start(server.port(), new Fault.Flip(120_000), 1);
        retries = 0;
      }
      default -> { }
    }
    try {
      String url = switch (kind) {
        case NOT_FOUND -> server.url("/missing.bin");
        case SERVER_ERROR -> server.url("/500");
        default -> proxy != null ? proxy.url("/fw.bin") : server.url("/fw.bin");
      };
      request = UpdateRequest.of(url).withSha256(kind == Kind.WRONG_DIGEST ? Sha256.digest(new byte[1]) : digest);
      try {
        List<UpdateEvent> events = Bench.updater(device, source(), retries).update(request).collectList().block(WAIT);
        assertThat(events).last().isInstanceOf(UpdateEvent.Activated.class);
        SlotId next = device.store.boot().block(WAIT);
        device.store.markGood().block(WAIT);
        assertThat(device.store.status().block(WAIT).slot(next).sha256()).isEqualTo(digest);
        return true;
      } catch (RuntimeException e) {
        Throwable t = reactor.core.Exceptions.unwrap(e);
        assertThat(t).as("%s", kind).isInstanceOf(OtaException.class);
        Sentence.check(t.getMessage());
        return false;
      }
    } finally {
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  private static Resources settle(Resources baseline) {
    long deadline = System.currentTimeMillis() + 10_000;
    Resources now = Resources.nowAfterGc();
    while ((now.fds() > baseline.fds() + FD_SLACK || Resources.allThreads() > baseline.threads() + THREAD_SLACK)
        && System.currentTimeMillis() < deadline) {
      try {
        Thread.sleep(50); // polling for sockets and proxy loops to close, with a deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = Resources.nowAfterGc();
    }
    return now;
  }

  private static Resources snapshot() {
    Resources r = Resources.nowAfterGc();
    return new Resources(r.fds(), Resources.allThreads(), r.heap(), r.direct());
  }

  @Test
  @DisplayName("50 updates with random faults")
  @Case(category = "load", fault = "50 sequential updates into one store, each with a random fault (seeded): clean,"
      + " proxy cut, reset, stall, bit flip, 404, 500, wrong digest",
      outcome = "each installs or fails with its reason; heap, direct memory, threads and descriptors do not grow")
  void soak() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image))
        .route("/500", Routes.status(500, Map.of()));
    Device device = bench.device();
    Random random = new Random(20261125L);
    Kind[] kinds = Kind.values();
    for (Kind k : kinds) {
      once(device, server, k);
    }
    Resources baseline = snapshot();
    int installed = 0;
    Map<Kind, Integer> seen = new java.util.EnumMap<>(Kind.class);
    for (int i = 0; i < 50; i++) {
      Kind kind = kinds[random.nextInt(kinds.length)];
      seen.merge(kind, 1, Integer::sum);
      if (once(device, server, kind)) {
        installed++;
      }
    }
    Resources after = settle(new Resources(baseline.fds(), baseline.threads(), baseline.heap(), baseline.direct()));
    int threadsAfter = Resources.allThreads();
    System.out.printf("soak: %d of 50 installed, faults %s%n  before: heap %d KiB, direct %d KiB, threads %d, fds %d%n"
        + "  after:  heap %d KiB, direct %d KiB, threads %d, fds %d%n", installed, seen,
        baseline.heap() >> 10, baseline.direct() >> 10, baseline.threads(), baseline.fds(),
        after.heap() >> 10, after.direct() >> 10, threadsAfter, after.fds());
    assertThat(installed).isBetween(1, 49);
    assertThat(after.heap()).as("heap after GC").isLessThanOrEqualTo(baseline.heap() + HEAP_SLACK);
    assertThat(after.direct()).as("direct memory").isLessThanOrEqualTo(baseline.direct() + DIRECT_SLACK);
    assertThat(threadsAfter).as("threads: %s", Resources.threadNames())
        .isLessThanOrEqualTo(baseline.threads() + THREAD_SLACK);
    assertThat(after.fds()).as("descriptors: %s", Resources.fdTargets()).isLessThanOrEqualTo(baseline.fds() + FD_SLACK);
  }

  @Test
  @DisplayName("8 concurrent updates into 8 stores")
  @Case(category = "load", fault = "8 updates at once from one process into 8 stores, half of them cut mid-body",
      outcome = "all 8 installed byte-exact; nothing left behind")
  void concurrent() throws Exception {
    TestServer server = bench.https();
    List<Device> devices = new ArrayList<>();
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      byte[] bytes = Bench.image(300_000 + i * 1000, 40 + i);
      images.add(bytes);
      Routes.Image route = Routes.image(bytes);
      server.route("/fw-" + i + ".bin", i % 2 == 0 ? route : route.cutFirstAt(200_000));
      devices.add(bench.device());
    }
    Resources baseline = snapshot();
    int unpooledBefore = Resources.liveThreads();
    List<Flux<UpdateEvent>> updates = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      updates.add(Bench.updater(devices.get(i), source(), 2)
          .update(UpdateRequest.of(server.url("/fw-" + i + ".bin")).withSha256(Sha256.digest(images.get(i))))
          .subscribeOn(Schedulers.boundedElastic()));
    }
    List<UpdateEvent> done = Flux.merge(updates).filter(UpdateEvent.Activated.class::isInstance).collectList()
        .block(Duration.ofSeconds(30));
    assertThat(done).hasSize(8);
    for (int i = 0; i < 8; i++) {
      Path slot = devices.get(i).store.slotPath(SlotId.A);
      byte[] written = java.util.Arrays.copyOf(Files.readAllBytes(slot), images.get(i).length);
      assertThat(written).isEqualTo(images.get(i));
      assertThat(FileSlotStore.open(devices.get(i).dir).status().block(WAIT).next()).isEqualTo(SlotId.A);
    }
    Resources after = settle(baseline);
    System.out.printf("concurrent: before threads %d fds %d direct %d KiB; after threads %d fds %d direct %d KiB%n",
        baseline.threads(), baseline.fds(), baseline.direct() >> 10, Resources.allThreads(), after.fds(),
        after.direct() >> 10);
    assertThat(after.fds()).as("descriptors: %s", Resources.fdTargets()).isLessThanOrEqualTo(baseline.fds() + FD_SLACK);
    assertThat(Resources.liveThreads()).as("threads outside the capped pools: %s", Resources.threadNames())
        .isLessThanOrEqualTo(unpooledBefore + THREAD_SLACK);
    assertThat(Thread.getAllStackTraces().keySet()).filteredOn(Resources::isPooled)
        .as("pooled workers stay under Reactor's bounded-elastic cap").hasSizeLessThanOrEqualTo(
            2 * reactor.core.scheduler.Schedulers.DEFAULT_BOUNDED_ELASTIC_SIZE);
  }
}
