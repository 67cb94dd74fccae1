package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.eclipse.leshan.core.ResponseCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A fleet in one JVM: 100 agents over DTLS sharing two executors (Leshan's, Californium's), one Leshan server, one HTTPS
 * firmware server, one campaign. Prints the figures (registration time, campaign time, threads,
 * heap) on stdout.
 */
class FleetTest {

  /** 100 by default; -Dfleet.agents=N for a larger fleet (figures for 200 and 1000 are in the branch notes). */
  private static final int AGENTS = Integer.getInteger("fleet.agents", 100);

  @TempDir
  Path dir;

  private final List<Lwm2mAgent> agents = new ArrayList<>();
  private DmServer dm;
  private TestServer https;
  private ScheduledExecutorService shared;
  private ScheduledExecutorService coap;
  private reactor.core.scheduler.Scheduler campaign;

  @AfterEach
  void stop() {
    Flux.fromIterable(agents).parallel(4).runOn(Schedulers.boundedElastic()).doOnNext(Lwm2mAgent::stop)
        .sequential().blockLast(Duration.ofSeconds(60));
    if (dm != null) {
      dm.close();
    }
    if (https != null) {
      https.close();
    }
    if (campaign != null) {
      campaign.dispose();
    }
    if (shared != null) {
      shared.shutdownNow();
    }
    if (coap != null) {
      coap.shutdownNow();
    }
  }

  @Test
  void oneCampaignUpdatesAHundredAgentsAndEveryOneEndsWithResult1AndTheRightDigest() throws Exception {
    dm = DmServer.start();
    https = TestServer.https(TestPki.shared().localhost());
    byte[] image = Fixtures.image(64 * 1024 + 11, 2);
    https.route("/fleet-2.bin", Routes.image(image));
    AtomicInteger n = new AtomicInteger();
    shared = Executors.newScheduledThreadPool(4, r -> {
      Thread t = new Thread(r, "fleet-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    coap = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "fleet-coap-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    long heapBefore = usedHeap();

    long t0 = System.nanoTime();
    List<FileSlotStore> stores = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      String name = String.format(Locale.ROOT, "gw-%03d", i);
      FileSlotStore store = FileSlotStore.init(dir.resolve(name), 256 * 1024);
      Lwm2mAgent agent = Fixtures.agent(dm, name, store, dir.resolve(name)).sharedExecutor(shared).coapExecutor(coap)
          .requestTimeout(Duration.ofSeconds(10)).confirmEvery(Duration.ofMillis(250)).build();
      agents.add(agent);
      stores.add(store);
      names.add(name);
      agent.start();
    }
    for (String name : names) {
      dm.device(name).awaitRegistration(1);
    }
    long registered = System.nanoTime();
    int threadsRunning = ManagementFactory.getThreadMXBean().getThreadCount();
    long heapRunning = usedHeap();
    java.util.Map<String, Long> kinds = new java.util.TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      kinds.merge(t.getName().replaceAll("[0-9]+", "#"), 1L, Long::sum);
    }
    System.out.println("fleet: thread kinds " + kinds);
    // Californium on the shared executor: each agent keeps its DTLS socket's receiver thread, no more
    assertThat(threadsRunning - threadsBefore).as("threads of %d agents", AGENTS).isLessThan(AGENTS * 3 / 2);

    // the campaign: observe, write the Package URI, wait for 2, execute Update, wait for 0
    String url = https.url("/fleet-2.bin");
    // the server's side blocks while it waits: on threads of its own, never on the agents' schedulers
    campaign = Schedulers.newBoundedElastic(16, 1024, "campaign");
    Flux.fromIterable(names).flatMap(name -> Flux.defer(() -> {
      try {
        dm.observeFirmware(name);
        assertThat(dm.writePackageUri(name, url).getCode()).isEqualTo(ResponseCode.CHANGED);
        dm.device(name).awaitState(2);
        assertThat(dm.executeUpdate(name).getCode()).isEqualTo(ResponseCode.CHANGED);
        dm.device(name).stateSink.asFlux().skipUntil(s -> s == 3L).filter(s -> s == 0L).blockFirst(DmServer.TIMEOUT);
        return Flux.just(name);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }).subscribeOn(campaign), 16).blockLast(Duration.ofMinutes(2));
    long updated = System.nanoTime();
    // every gateway reboots into the trial and confirms it
    for (FileSlotStore store : stores) {
      assertThat(store.boot().block()).isEqualTo(SlotId.B);
      store.markGood().block();
    }
    for (String name : names) {
      dm.device(name).awaitResult(1);
    }
    long confirmed = System.nanoTime();

    Sha256 digest = Sha256.digest(image);
    for (int i = 0; i < AGENTS; i++) {
      DmServer.Device device = dm.device(names.get(i));
      assertThat(device.states).as(names.get(i)).containsExactly(0L, 1L, 2L, 3L, 0L);
      assertThat(device.results).as(names.get(i)).containsExactly(0L, 1L);
      StoreStatus status = stores.get(i).status().block();
      assertThat(status.active()).isEqualTo(SlotId.B);
      assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
      assertThat(status.slot(SlotId.B).digest()).contains(digest);
      assertThat(agents.get(i).result()).isEqualTo(FirmwareResult.SUCCESS);
    }
    System.out.printf(Locale.ROOT, "fleet: %d agents (coaps+PSK, shared executors of 4 and 2), image %d bytes%n", AGENTS,
        image.length);
    System.out.printf(Locale.ROOT, "fleet: all registered in %d ms; campaign (write, download, verify, Update) %d ms; "
        + "confirmed (Result 1 seen by the server) after %d ms more%n", ms(registered - t0), ms(updated - registered),
        ms(confirmed - updated));
    System.out.printf(Locale.ROOT, "fleet: threads %d before, %d with the agents running (%.1f per agent); "
        + "heap %.1f MB before, %.1f MB running (%.0f KB per agent)%n", threadsBefore, threadsRunning,
        (threadsRunning - threadsBefore) / (double) AGENTS, heapBefore / 1e6, heapRunning / 1e6,
        (heapRunning - heapBefore) / 1e3 / AGENTS);
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  private static long usedHeap() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
