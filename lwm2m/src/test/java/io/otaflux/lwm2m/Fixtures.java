package io.otaflux.lwm2m;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import io.otaflux.OtaUpdater;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.TestPki;

import static org.assertj.core.api.Assertions.assertThat;

/** Images, stores, sources and agents for the tests: small images, short timeouts. */
final class Fixtures {

  static final long SLOT_SIZE = 1024 * 1024;

  private Fixtures() {
  }

  static byte[] image(int size, long seed) {
    byte[] image = new byte[size];
    new Random(seed).nextBytes(image);
    return image;
  }

  static byte[] key(String endpoint) {
    return ("secret-of-" + endpoint).getBytes(StandardCharsets.UTF_8);
  }

  static HttpsFirmwareSource source() {
    return HttpsFirmwareSource.create()
        .trustAnchors(TrustAnchors.fromPem(TestPki.shared().root().pem()))
        .connectTimeout(Duration.ofSeconds(3))
        .idleTimeout(Duration.ofSeconds(3));
  }

  static OtaUpdater updater() {
    return OtaUpdater.create().source(source()).retry(0, Duration.ofMillis(100), Duration.ofMillis(100));
  }

  static ManifestUpdater manifests(FileSlotStore store, TrustedKeys keys) {
    return ManifestUpdater.of(source(), store, keys).updater(updater());
  }

  /** Counts reboot-hook runs. */
  static final class Reboots implements Runnable {
    final List<Long> at = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final reactor.core.publisher.Sinks.Many<Integer> runs = reactor.core.publisher.Sinks.many().replay().all();

    @Override
    public void run() {
      threads.add(Thread.currentThread().getName());
      at.add(System.nanoTime());
      runs.tryEmitNext(at.size());
    }

    void await(int n) {
      runs.asFlux().filter(i -> i >= n).blockFirst(DmServer.TIMEOUT);
    }
  }

  static Lwm2mAgent.Builder agent(DmServer dm, String endpoint, FileSlotStore store, Path dir) {
    dm.addPsk(endpoint, endpoint, key(endpoint));
    return Lwm2mAgent.builder()
        .server(dm.coapsUri())
        .endpoint(endpoint)
        .psk(endpoint, key(endpoint))
        .updater(updater())
        .store(store)
        .pendingFile(dir.resolve("lwm2m-agent.properties"))
        .lifetime(Duration.ofSeconds(60))
        .requestTimeout(Duration.ofSeconds(3))
        .registrationBackoff(Duration.ofMillis(200), Duration.ofSeconds(2))
        .confirmEvery(Duration.ofMillis(100));
  }

  /** The store as a fresh one: slot a good and running and chosen, slot b not bootable. */
  static void assertAsItWas(FileSlotStore store) {
    StoreStatus status = store.status().block(Duration.ofSeconds(5));
    assertThat(status).isNotNull();
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.A).state()).isEqualTo(SlotState.GOOD);
    assertThat(status.slot(SlotId.B).state().isBootable()).isFalse();
  }
}
