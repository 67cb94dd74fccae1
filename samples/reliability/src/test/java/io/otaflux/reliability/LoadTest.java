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
import io.otaflux.transport.HttpsFirmwareSource;
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

  /**
   * Only a guard against a hang: the concurrent case waits for events (the eight Activated
   * events, the connections closing), never for a time to pass, so a loaded machine only makes it slower.
   */
  private static final Duration HANG = Duration.ofMinutes(3);

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
    try (FaultProxy closing = proxy) { // null when the fault, if any, is the server's
      String url = switch (kind) {
        case NOT_FOUND -> server.url("/missing.bin");
        case SERVER_ERROR -> server.url("/500");
        default -> closing != null ? closing.url("/fw.bin") : server.url("/fw.bin");
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
    }
  }

  @Test
  @DisplayName("50 updates with random faults")
  @Case(category = "load", fault = "50 sequential updates into one store, each with a random fault (seeded): clean, proxy cut, reset, stall, bit flip, 404, 500, wrong digest", outcome = "each installs or fails with its reason; heap, direct memory, threads and descriptors do not grow")
  void soak() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image))
        .route("/500", Routes.status(500, Map.of()));
    Device device = bench.device();
    Random random = new Random(20261125L);
    Kind[] kinds = Kind.values();
    for (Kind k : kinds) {
      once(device, server, k);
    }
    Resources baseline = Resources.snapshot();
    int installed = 0;
    Map<Kind, Integer> seen = new java.util.EnumMap<>(Kind.class);
    for (int i = 0; i < 50; i++) {
      Kind kind = kinds[random.nextInt(kinds.length)];
      seen.merge(kind, 1, Integer::sum);
      if (once(device, server, kind)) {
        installed++;
      }
    }
    Resources after = Resources.settled(baseline, Duration.ofSeconds(10));
    System.out.printf("soak: %d of 50 installed, faults %s%n  before: heap %d KiB, direct %d KiB, threads %d, fds %d%n"
        + "  after:  heap %d KiB, direct %d KiB, threads %d, fds %d%n", installed, seen,
        baseline.heap() >> 10, baseline.direct() >> 10, baseline.threads(), baseline.fds(),
        after.heap() >> 10, after.direct() >> 10, after.threads(), after.fds());
    assertThat(installed).isBetween(1, 49);
    Resources.assertFlat(baseline, after);
  }

  @Test
  @DisplayName("8 concurrent updates into 8 stores")
  @Case(category = "load", fault = "8 updates at once from one process into 8 stores, half of them cut mid-body", outcome = "all 8 installed byte-exact; nothing left behind")
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
    // the cut ends a connection (an event); no timeout may end one: under load a read may wait long
    HttpsFirmwareSource patient = source().connectTimeout(HANG).handshakeTimeout(HANG).idleTimeout(HANG);
    Resources baseline = Resources.snapshot();
    int unpooledBefore = Resources.liveThreads();
    List<Flux<UpdateEvent>> updates = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      updates.add(Bench.updater(devices.get(i), patient, 2)
          .update(UpdateRequest.of(server.url("/fw-" + i + ".bin")).withSha256(Sha256.digest(images.get(i))))
          .subscribeOn(Schedulers.boundedElastic()));
    }
    List<UpdateEvent> done = Flux.merge(updates).filter(UpdateEvent.Activated.class::isInstance).collectList()
        .block(HANG);
    assertThat(done).hasSize(8);
    for (int i = 0; i < 8; i++) {
      Path slot = devices.get(i).store.slotPath(SlotId.A);
      byte[] written = java.util.Arrays.copyOf(Files.readAllBytes(slot), images.get(i).length);
      assertThat(written).isEqualTo(images.get(i));
      assertThat(FileSlotStore.open(devices.get(i).dir).status().block(WAIT).next()).isEqualTo(SlotId.A);
    }
    // the bounded-elastic workers the updates ran on idle out after 60 s: wait for descriptors and
    // the threads outside the capped pools only (the pools' cap is asserted below)
    Resources after = Resources.settled(
        new Resources(baseline.fds(), unpooledBefore, baseline.heap(), baseline.direct()), HANG, Resources::liveThreads);
    System.out.printf("concurrent: before threads %d fds %d direct %d KiB; after threads %d fds %d direct %d KiB%n",
        baseline.threads(), baseline.fds(), baseline.direct() >> 10, after.threads(), after.fds(),
        after.direct() >> 10);
    assertThat(after.fds()).as("descriptors: %s", Resources.fdTargets())
        .isLessThanOrEqualTo(baseline.fds() + Resources.FD_SLACK);
    assertThat(Resources.liveThreads()).as("threads outside the capped pools: %s", Resources.threadNames())
        .isLessThanOrEqualTo(unpooledBefore + Resources.THREAD_SLACK);
    assertThat(Thread.getAllStackTraces().keySet()).filteredOn(Resources::isPooled)
        .as("pooled workers stay under Reactor's bounded-elastic cap").hasSizeLessThanOrEqualTo(
            2 * reactor.core.scheduler.Schedulers.DEFAULT_BOUNDED_ELASTIC_SIZE);
  }
}
