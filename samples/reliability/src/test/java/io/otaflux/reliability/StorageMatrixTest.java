package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.WAIT;
import static io.otaflux.reliability.Bench.fails;
import static io.otaflux.reliability.Bench.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Sinks;

/**
 * Storage in process: capacity, a store busy with another update, a damaged boot state. Full
 * disk, read-only file system and failing fsync are in {@link CliFaultsIT} (a process in its own
 * mount namespace, or under strace).
 */
class StorageMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  @Test
  @DisplayName("image larger than the slot")
  @Case(category = "storage", fault = "Content-Length 1 byte over the 1 MiB slot", outcome = "STORAGE (7) before a byte is written; the connection closes")
  void largerThanSlot() throws IOException {
    TestServer server = bench.https().route("/fw.bin", Routes.image(Bench.image((int) Device.SLOT_SIZE + 1, 7)));
    Device device = bench.device();
    long before = Files.size(device.store.slotPath(SlotId.A));
    fails(device, UpdateRequest.of(server.url("/fw.bin")), 1, Reason.STORAGE, "larger than slot");
    assertThat(Files.size(device.store.slotPath(SlotId.A))).isEqualTo(before);
    server.allClosed(1).block(WAIT);
  }

  @Test
  @DisplayName("image over 2 GiB announced")
  @Case(category = "storage", fault = "expected size 3 GiB (over 2^31) for a 1 MiB slot", outcome = "STORAGE (7), sizes kept as long, nothing fetched")
  void overTwoGib() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(Bench.image(1000, 8)));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")).withSize(3L << 30), 1, Reason.STORAGE,
        "3221225472");
  }

  @Test
  @DisplayName("concurrent update into the same store")
  @Case(category = "storage", fault = "a second update starts while the first is writing the slot", outcome = "STORAGE (7) busy for the second; the first completes")
  void busy() throws Exception {
    byte[] image = Bench.image(300_000, 9);
    Sinks.One<Void> release = Sinks.one();
    Routes.Image slow = Routes.image(image);
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> n == 0
        ? release.asMono().then(reactor.core.publisher.Mono.from(slow.handle(req, res, n)))
        : slow.handle(req, res, n));
    Device device = bench.device();
    java.util.concurrent.CompletableFuture<List<UpdateEvent>> first = Bench.updater(device,
        source().idleTimeout(java.time.Duration.ofSeconds(5)), 0)
        .update(UpdateRequest.of(server.url("/fw.bin"))).collectList().toFuture();
    try {
      server.received(1).block(WAIT);
      OtaException e = Bench.failure(Bench.updater(device, source(), 0).update(UpdateRequest.of(server.url("/fw.bin"))));
      assertThat(e.reason()).isEqualTo(Reason.STORAGE);
      Sentence.check(e.getMessage(), "busy");
      device.assertUnchanged();
      release.tryEmitEmpty();
      assertThat(first.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).last()
          .isInstanceOf(UpdateEvent.Activated.class);
    } finally {
      first.cancel(true);
    }
  }

  @Test
  @DisplayName("boot state damaged in both copies")
  @Case(category = "storage", fault = "every byte of the boot state file overwritten", outcome = "STORAGE (7) on open; the file is left as found, never re-initialised")
  void corruptState() throws IOException {
    Device device = bench.device();
    Path state = device.dir.resolve("boot-state");
    byte[] garbage = Bench.image((int) Files.size(state), 10);
    Files.write(state, garbage);
    OtaException e = org.junit.jupiter.api.Assertions.assertThrows(OtaException.class,
        () -> FileSlotStore.openOrInit(device.dir));
    assertThat(e.reason()).isEqualTo(Reason.STORAGE);
    Sentence.check(e.getMessage(), "boot state");
    assertThat(Files.readAllBytes(state)).isEqualTo(garbage);
  }

  @Test
  @DisplayName("slot file missing")
  @Case(category = "storage", fault = "the inactive slot's file was deleted", outcome = "STORAGE (7) naming the file")
  void missingSlot() throws IOException {
    TestServer server = bench.https().route("/fw.bin", Routes.image(Bench.image(100_000, 11)));
    Device device = bench.device();
    Files.delete(device.store.slotPath(SlotId.A));
    OtaException e = Bench.failure(Bench.updater(device, source(), 0).update(UpdateRequest.of(server.url("/fw.bin"))));
    assertThat(e.reason()).isEqualTo(Reason.STORAGE);
    Sentence.check(e.getMessage(), "slot-a.img");
    device.assertUnchanged();
  }
}
