package io.otaflux.fleet;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;
import io.otaflux.lwm2m.Lwm2mAgent;
import io.otaflux.lwm2m.DmServer;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.SigningKey;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;

import org.eclipse.leshan.core.response.LwM2mResponse;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The fleet's main job on an embedded default: one JVM runs an Eclipse Leshan server, the local
 * HTTPS firmware server and N agents (each with its own slot store), then rolls firmware 2.0.0 out
 * as a campaign and prints a table per device and the campaign's time.
 *
 * <pre>
 * java -jar samples/fleet-demo/target/fleet-demo.jar [AGENTS]     (default 20)
 * </pre>
 */
public final class FleetDemo {

  /** How long the demo waits for each device's registration and each step of its update. */
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int IMAGE_SIZE = 512 * 1024 + 77;

  private FleetDemo() {
  }

  /**
   * Runs the demo.
   *
   * @param args optionally the number of agents
   * @throws Exception when the demo fails (it says why)
   */
  public static void main(String[] args) throws Exception {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    int agents = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    if (agents < 1 || agents > 2000) {
      System.err.println("error: the number of agents is from 1 to 2000, not " + agents + ".");
      System.exit(2);
    }
    System.exit(run(agents, System.out));
  }

  static int run(int count, PrintStream out) throws Exception {
    Path root = Files.createTempDirectory("otaflux-fleet-");
    ScheduledExecutorService shared = daemons(4, "fleet-");
    // Californium's stage and timers never block, so they get a pool of their own (not `shared`, whose
    // threads Leshan blocks while it registers): one thread per agent instead of about five
    ScheduledExecutorService coap = daemons(2, "fleet-coap-");
    Scheduler campaign = Schedulers.newBoundedElastic(16, 100_000, "campaign", 60, true);
    List<Lwm2mAgent> agents = new ArrayList<>();
    try (FirmwareServer firmware = FirmwareServer.start(); DmServer dm = DmServer.start()) {
      // the publisher: firmware 2.0.0 and its signed manifest
      byte[] image = new byte[IMAGE_SIZE];
      new Random(2).nextBytes(image);
      SigningKey publisher = SigningKey.generate();
      String imageUrl = firmware.publish("gateway-2.0.0.bin", image).toString();
      Manifest manifest = Manifest.builder().version("2.0.0").url(imageUrl).image(image).sign(publisher);
      String manifestUrl = firmware.publish("gateway-2.0.0.json", manifest.json().getBytes(StandardCharsets.UTF_8))
          .toString();
      out.println("Firmware server  " + firmware.uri("") + "  (CA generated now; the agents trust only it)");
      out.println("Leshan server    " + dm.coapsUri() + "  (DTLS, one pre-shared key per device)");
      out.println("Campaign         " + manifestUrl + "  (version 2.0.0, " + image.length + " bytes, signed)");

      HttpsFirmwareSource source = HttpsFirmwareSource.create()
          .trustAnchors(TrustAnchors.fromPem(DemoPki.pem(firmware.pki().root())));
      TrustedKeys keys = TrustedKeys.of(publisher.publicKey());
      List<String> names = new ArrayList<>();
      List<FileSlotStore> stores = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < count; i++) {
        String name = String.format(Locale.ROOT, "gw-%04d", i + 1);
        byte[] key = ("demo-key-of-" + name).getBytes(StandardCharsets.UTF_8);
        dm.addPsk(name, name, key);
        Path dir = root.resolve(name);
        FileSlotStore store = FileSlotStore.init(dir, 1024 * 1024);
        OtaUpdater updater = OtaUpdater.create().source(source).store(store);
        Lwm2mAgent agent = Lwm2mAgent.builder()
            .server(dm.coapsUri())
            .endpoint(name)
            .psk(name, key)
            .updater(updater)
            .store(store)
            .manifests(ManifestUpdater.of(source, store, keys).updater(updater))
            .pendingFile(dir.resolve("lwm2m-agent.properties"))
            .confirmEvery(Duration.ofMillis(250))
            .sharedExecutor(shared)
            .coapExecutor(coap)
            .build();
        agents.add(agent);
        names.add(name);
        stores.add(store);
        agent.start();
      }
      for (String name : names) {
        dm.device(name).registrations.asFlux().blockFirst(WAIT);
      }
      long registered = System.nanoTime();
      out.printf(Locale.ROOT, "%d agents registered in %.2f s%n%n", count, seconds(registered - t0));

      // the campaign: per device, observe, write the Package URI, wait for Downloaded, execute Update,
      // then the device "reboots" into the trial (boot) and the new firmware confirms itself (mark-good)
      List<Row> rows = Flux.range(0, count)
          .flatMap(i -> Mono.fromCallable(() -> update(dm, names.get(i), stores.get(i), manifestUrl, System.nanoTime()))
              .subscribeOn(campaign), 16)
          .collectList()
          .block(Duration.ofMinutes(10));
      long done = System.nanoTime();

      out.printf(Locale.ROOT, "%-8s  %-14s  %-7s  %-8s  %-4s  %-16s  %s%n", "device", "states seen", "result",
          "firmware", "slot", "sha256", "time");
      Sha256 expected = Sha256.digest(image);
      int ok = 0;
      rows.sort(Comparator.comparing(Row::name));
      for (Row row : rows) {
        boolean good = row.result == 1 && row.sha256.equals(expected.hex()) && row.version.equals("2.0.0");
        ok += good ? 1 : 0;
        out.printf(Locale.ROOT, "%-8s  %-14s  %-7s  %-8s  %-4s  %-16s  %.2f s%n", row.name, row.states,
            row.result == 1 ? "1 ok" : row.result + " FAIL", row.version, row.slot, row.sha256.substring(0, 16),
            row.seconds);
      }
      out.printf(Locale.ROOT, "%nCampaign: %d of %d devices on 2.0.0, confirmed, in %.2f s (registration %.2f s).%n", ok,
          count, seconds(done - registered), seconds(registered - t0));
      stop(agents, campaign); // while the server is there to hear the deregistrations
      return ok == count ? 0 : 1;
    } finally {
      stop(agents, campaign);
      campaign.dispose();
      shared.shutdownNow();
      coap.shutdownNow();
      deleteTree(root);
    }
  }

  /** A pool of {@code size} daemon threads named {@code prefix} and a number. */
  private static ScheduledExecutorService daemons(int size, String prefix) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newScheduledThreadPool(size, r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private static void stop(List<Lwm2mAgent> agents, Scheduler on) {
    Flux.fromIterable(agents).parallel(4).runOn(on).doOnNext(Lwm2mAgent::stop).sequential()
        .blockLast(Duration.ofMinutes(1));
  }

  /** One device through the campaign; returns its row of the table. */
  private static Row update(DmServer dm, String name, FileSlotStore store, String url, long start)
      throws InterruptedException {
    DmServer.Device device = dm.device(name);
    dm.observeFirmware(name);
    succeeded(dm.writePackageUri(name, url), "write Package URI");
    device.stateSink.asFlux().filter(s -> s == 2L).blockFirst(WAIT);
    succeeded(dm.executeUpdate(name), "execute Update");
    device.stateSink.asFlux().skipUntil(s -> s == 3L).filter(s -> s == 0L).blockFirst(WAIT);
    // what the gateway does at its reboot: the boot script boots the trial, the firmware confirms itself
    store.boot().block();
    store.markGood().block();
    device.resultSink.asFlux().filter(r -> r != 0L).blockFirst(WAIT);
    StoreStatus status = store.status().block();
    SlotId active = status.active();
    String version = String.valueOf(dm.read(name, "/3/0/3"));
    long result = device.results.get(device.results.size() - 1);
    String states = device.states.toString().replace(" ", "");
    return new Row(name, states, result, version.isEmpty() ? "?" : version, active.label(),
        status.slot(active).digest().map(Sha256::hex).orElse("-".repeat(64)), seconds(System.nanoTime() - start));
  }

  private static void succeeded(LwM2mResponse response, String what) {
    if (!response.isSuccess()) {
      throw new IllegalStateException(what + ": " + response.getCode() + " " + response.getErrorMessage());
    }
  }

  private record Row(String name, String states, long result, String version, String slot, String sha256,
      double seconds) {
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
