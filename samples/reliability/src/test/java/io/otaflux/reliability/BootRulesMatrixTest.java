package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.WAIT;
import static io.otaflux.reliability.Bench.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.BootRules;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The A/B promise against the device's own steps: an update never writes the slot that boots
 * next or the only good image, a store is never initialised over, and a slot holds exactly its
 * image. Every sentence that says "unchanged" is checked here byte for byte.
 */
class BootRulesMatrixTest {

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(200_000, 20);

  @Test
  @DisplayName("update during an unconfirmed trial")
  @Case(category = "storage", fault = "update, boot (the new slot runs as an unconfirmed trial), then another update", outcome = "POLICY (9) before a byte is fetched or written, saying mark-good or rollback; every byte of the store as it was")
  void duringTrial() throws IOException {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image))
        .route("/next.bin", Routes.image(Bench.image(100_000, 21)));
    Device device = bench.device();
    Bench.succeeds(device, source(), UpdateRequest.of(server.url("/fw.bin")), 0);
    assertThat(device.store.boot().block(WAIT)).isEqualTo(SlotId.A);
    Map<String, byte[]> bytes = files(device.dir);
    StoreStatus status = device.store.status().block(WAIT);
    OtaException e = Bench.failure(Bench.updater(device, source(), 0).update(UpdateRequest.of(server.url("/next.bin"))));
    assertThat(e.detail()).isEqualTo(Detail.TRIAL_RUNNING);
    assertThat(e.reason().exitCode()).isEqualTo(9);
    Sentence.check(e.getMessage(), "unconfirmed trial", "ota mark-good", "ota rollback", "unchanged");
    assertThat(files(device.dir)).containsExactlyInAnyOrderEntriesOf(bytes);
    assertThat(FileSlotStore.open(device.dir).status().block(WAIT)).isEqualTo(status);
    assertThat(server.requests().stream().filter(r -> r.path().equals("/next.bin"))).isEmpty();
  }

  @Test
  @DisplayName("update after a rollback, before the reboot")
  @Case(category = "storage", fault = "update, boot, rollback (the good slot is the boot choice again), then update", outcome = "POLICY (9) saying to reboot first; every byte as it was; after the boot the update writes the rolled-back slot")
  void afterRollback() throws IOException {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    Device device = bench.device();
    Bench.succeeds(device, source(), UpdateRequest.of(server.url("/fw.bin")), 0);
    device.store.boot().block(WAIT);
    assertThat(device.store.rollback().block(WAIT)).isEqualTo(SlotId.B);
    Map<String, byte[]> bytes = files(device.dir);
    OtaException e = Bench.failure(Bench.updater(device, source(), 0).update(UpdateRequest.of(server.url("/fw.bin"))));
    assertThat(e.detail()).isEqualTo(Detail.REBOOT_PENDING);
    assertThat(e.reason().exitCode()).isEqualTo(9);
    Sentence.check(e.getMessage(), "reboot", "ota boot", "unchanged");
    assertThat(files(device.dir)).containsExactlyInAnyOrderEntriesOf(bytes);
    assertThat(device.store.boot().block(WAIT)).as("the good slot boots").isEqualTo(SlotId.B);
    Device rebooted = Device.reopen(device);
    Bench.succeeds(rebooted, source(), UpdateRequest.of(server.url("/fw.bin")), 0);
    assertThat(rebooted.store.status().block(WAIT).next()).isEqualTo(SlotId.A);
  }

  @Test
  @DisplayName("init over an existing store")
  @Case(category = "storage", fault = "init on a directory holding a store with a confirmed image, then on a damaged one", outcome = "USAGE (2) naming what --force would destroy; every byte as it was; init --force re-creates it")
  void initOverStore() throws IOException {
    Device device = bench.device();
    Map<String, byte[]> bytes = files(device.dir);
    OtaException e = org.junit.jupiter.api.Assertions.assertThrows(OtaException.class,
        () -> FileSlotStore.init(device.dir, Device.SLOT_SIZE));
    assertThat(e.detail()).isEqualTo(Detail.STORE_EXISTS);
    assertThat(e.reason().exitCode()).isEqualTo(2);
    Sentence.check(e.getMessage(), "--force", "destroy", "confirmed image", "nothing was changed");
    assertThat(files(device.dir)).containsExactlyInAnyOrderEntriesOf(bytes);
    Files.write(device.dir.resolve("boot-state"), Bench.image(4096, 23));
    bytes = files(device.dir);
    assertThat(org.junit.jupiter.api.Assertions.assertThrows(OtaException.class,
        () -> FileSlotStore.init(device.dir, Device.SLOT_SIZE)).detail()).isEqualTo(Detail.STORE_EXISTS);
    assertThat(files(device.dir)).containsExactlyInAnyOrderEntriesOf(bytes);
    assertThat(FileSlotStore.recreate(device.dir, Device.SLOT_SIZE).status().block(WAIT))
        .isEqualTo(BootRules.initial(Device.SLOT_SIZE));
  }

  @Test
  @DisplayName("smaller image after a larger one")
  @Case(category = "storage", fault = "a 900 KiB image, then a 1000-byte image into the same slot file", outcome = "installed; the slot file is 1000 bytes and its SHA-256 is the recorded digest")
  void smallerAfterLarger() throws IOException {
    byte[] large = Bench.image(900 * 1024, 24);
    byte[] middle = Bench.image(50_000, 25);
    byte[] small = Bench.image(1000, 26);
    TestServer server = bench.https().route("/large.bin", Routes.image(large))
        .route("/middle.bin", Routes.image(middle)).route("/small.bin", Routes.image(small));
    Device device = bench.device();
    for (String path : new String[] {"/large.bin", "/middle.bin", "/small.bin"}) {
      Device now = Device.reopen(device);
      Bench.succeeds(now, source(), UpdateRequest.of(server.url(path)), 0);
      now.store.boot().block(WAIT);
      now.store.markGood().block(WAIT);
    }
    StoreStatus status = device.store.status().block(WAIT);
    assertThat(status.active()).isEqualTo(SlotId.A);
    Path slotA = device.store.slotPath(SlotId.A);
    assertThat(Files.size(slotA)).isEqualTo(small.length);
    assertThat(Sha256.digest(Files.readAllBytes(slotA))).isEqualTo(status.slot(SlotId.A).sha256());
  }

  /** The store's files, not its lock files, byte for byte. */
  static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        if (!p.getFileName().toString().endsWith(".lock")) {
          files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
      }
    }
    return files;
  }
}
