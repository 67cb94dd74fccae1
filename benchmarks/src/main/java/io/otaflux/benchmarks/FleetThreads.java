package io.otaflux.benchmarks;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.otaflux.OtaUpdater;
import io.otaflux.lwm2m.Lwm2mAgent;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;

import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.LeshanServerBuilder;
import org.eclipse.leshan.server.californium.endpoint.CaliforniumServerEndpointsProvider;
import org.eclipse.leshan.server.californium.endpoint.coaps.CoapsServerProtocolProvider;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.security.InMemorySecurityStore;
import org.eclipse.leshan.server.security.SecurityInfo;

/**
 * Threads and heap per LwM2M agent: N agents in one JVM, each with its own file store, register
 * over DTLS with a pre-shared key with one in-process Eclipse Leshan server (registration is
 * needed: the CoAP and DTLS threads start with the endpoint the registration creates). All agents
 * share one executor of 4 threads for Leshan ({@code Lwm2mAgent.Builder.sharedExecutor}) and, with
 * the argument {@code coap}, one of 2 threads for Californium ({@code coapExecutor}). Prints the thread
 * count and used heap (after {@code System.gc()}) before the agents, with all of them registered,
 * and after all were stopped, and the threads by name.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar io.otaflux.benchmarks.FleetThreads N [coap]} (see
 * {@code benchmarks/fleet-threads.sh}). Threads are exact; heap is approximate (one JVM, a GC
 * before each reading, a noisy shared machine).
 */
public final class FleetThreads {

  private FleetThreads() {
  }

  /**
   * Runs the measurement.
   *
   * @param args the number of agents (default 200); then {@code coap} to share Californium's executor
   * @throws Exception when the fleet does not register in time
   */
  public static void main(String[] args) throws Exception {
    int agents = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    boolean sharedCoap = args.length > 1 && args[1].equals("coap");
    Path dir = Files.createTempDirectory("fleet-threads");
    InMemorySecurityStore security = new InMemorySecurityStore();
    Map<String, CountDownLatch> registered = new ConcurrentHashMap<>();
    LeshanServer server = server(security, registered);
    server.start();
    URI uri = URI.create("coaps://127.0.0.1:" + server.getEndpoint(Protocol.COAPS).getURI().getPort());
    AtomicInteger n = new AtomicInteger();
    ScheduledExecutorService shared = Executors.newScheduledThreadPool(4, r -> {
      Thread t = new Thread(r, "fleet-shared-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    ScheduledExecutorService coap = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "fleet-coap-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    OtaUpdater updater = OtaUpdater.create().source(HttpsFirmwareSource.create());
    Lwm2mAgent.Builder template = Lwm2mAgent.builder().server(uri).updater(updater).sharedExecutor(shared)
        .lifetime(Duration.ofSeconds(300)).requestTimeout(Duration.ofSeconds(30));
    if (sharedCoap) {
      template = template.coapExecutor(coap);
    }

    int threadsBefore = threads();
    long heapBefore = usedHeap();
    long t0 = System.nanoTime();
    List<Lwm2mAgent> fleet = new ArrayList<>();
    for (int i = 0; i < agents; i++) {
      String name = String.format(Locale.ROOT, "gw-%04d", i);
      byte[] key = ("secret-of-" + name).getBytes(StandardCharsets.UTF_8);
      security.add(SecurityInfo.newPreSharedKeyInfo(name, name, key));
      registered.put(name, new CountDownLatch(1));
      FileSlotStore store = FileSlotStore.init(dir.resolve(name), 64 * 1024);
      Lwm2mAgent agent = template.endpoint(name).psk(name, key).store(store).build();
      fleet.add(agent);
      agent.start();
    }
    for (Map.Entry<String, CountDownLatch> e : registered.entrySet()) {
      if (!e.getValue().await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException(e.getKey() + " did not register within 120 s");
      }
    }
    long registeredMs = (System.nanoTime() - t0) / 1_000_000;
    int threadsRunning = threads();
    long heapRunning = usedHeap();
    Map<String, Integer> kinds = new TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      kinds.merge(t.getName().replaceAll("[0-9]+", "#"), 1, Integer::sum);
    }

    for (Lwm2mAgent agent : fleet) {
      agent.stop();
    }
    Thread.sleep(2_000); // threads that end on their own (idle pools) have ended
    int threadsStopped = threads();
    server.destroy();
    shared.shutdownNow();
    coap.shutdownNow();

    System.out.printf(Locale.ROOT, "fleet-threads: %d agents (%s) registered in %d ms%n", agents,
        sharedCoap ? "Californium on a shared executor of 2" : "Californium's own threads", registeredMs);
    System.out.printf(Locale.ROOT, "fleet-threads: threads %d before, %d running (%.2f per agent), %d after stop%n",
        threadsBefore, threadsRunning, (threadsRunning - threadsBefore) / (double) agents, threadsStopped);
    System.out.printf(Locale.ROOT, "fleet-threads: heap %.1f MB before, %.1f MB running (%.0f KB per agent)%n",
        heapBefore / 1e6, heapRunning / 1e6, (heapRunning - heapBefore) / 1e3 / agents);
    System.out.println("fleet-threads: thread names (digits as #) " + kinds);
  }

  private static LeshanServer server(InMemorySecurityStore security, Map<String, CountDownLatch> registered) {
    CaliforniumServerEndpointsProvider.Builder endpoints = new CaliforniumServerEndpointsProvider.Builder(
        new CoapsServerProtocolProvider());
    endpoints.addEndpoint(new InetSocketAddress("127.0.0.1", 0), Protocol.COAPS);
    LeshanServer s = new LeshanServerBuilder().setEndpointsProviders(endpoints.build()).setSecurityStore(security)
        .build();
    s.getRegistrationService().addListener(new RegistrationListener() {
      @Override
      public void registered(Registration registration, Registration previous, Collection<Observation> observations) {
        CountDownLatch latch = registered.get(registration.getEndpoint());
        if (latch != null) {
          latch.countDown();
        }
      }

      @Override
      public void updated(RegistrationUpdate update, Registration updated, Registration previous) {
      }

      @Override
      public void unregistered(Registration registration, Collection<Observation> observations, boolean expired,
          Registration newReg) {
      }
    });
    return s;
  }

  private static int threads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
