package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.testkit.SlotStoreCompatibilityKit;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The compatibility kit on a file store in a temporary directory, reopened from disk by
 * {@link #reopen}, and what only a store on files does: layout, lock, faults, large offsets.
 */
class FileSlotStoreTest extends SlotStoreCompatibilityKit {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long GIB = 1L << 30;

  @TempDir
  Path dir;

  private int stores;

  @Override
  protected SlotStore newStore(long capacity) {
    // the first store in the test's directory itself; more in directories of their own
    return FileSlotStore.init(stores++ == 0 ? dir : dir.resolve("store-" + stores), capacity);
  }

  @Override
  protected SlotStore reopen(SlotStore store) {
    return FileSlotStore.open(((FileSlotStore) store).slotPath(SlotId.A).getParent());
  }

  @Test
  void aChunkIndexIsKeptNextToTheBootStateReplacedAtomicallyAndATornTemporaryFileIsIgnored() throws IOException {
    FileSlotStore store = (FileSlotStore) newStore(1 << 20);
    // what a power cut in the middle of an earlier save leaves: a temporary file, never read
    Files.write(dir.resolve("slot-b.chunks.new"), new byte[] {1, 2, 3});
    assertThat(store.loadChunkIndex(SlotId.B).blockOptional(WAIT)).isEmpty();

    store.saveChunkIndex(SlotId.B, new byte[] {4, 5, 6, 7}).block(WAIT);

    assertThat(Files.readAllBytes(dir.resolve("slot-b.chunks"))).containsExactly(4, 5, 6, 7);
    assertThat(dir.resolve("slot-b.chunks.new")).doesNotExist();
    assertThat(FileSlotStore.open(dir).loadChunkIndex(SlotId.B).block(WAIT)).containsExactly(4, 5, 6, 7);
    assertThat(FileSlotStore.open(dir).loadChunkIndex(SlotId.A).blockOptional(WAIT)).isEmpty();
  }

  @Test
  void operationsAreColdAndRunOnTheStoresScheduler() throws IOException {
    Scheduler slotIo = Schedulers.newSingle("slot-io");
    try {
      FileSlotStore store = FileSlotStore.init(dir, 1 << 20).scheduler(slotIo);
      byte[] image = image(1000, 30);
      store.activate(install(store, image), Sha256.digest(image)).block(WAIT);
      Mono<SlotId> boot = store.boot();
      assertThat(FileSlotStore.open(dir).status().block(WAIT).slot(SlotId.B).attempts())
          .as("nothing happens before subscription").isZero();
      AtomicReference<String> thread = new AtomicReference<>();
      StepVerifier.create(boot.doOnNext(slot -> thread.set(Thread.currentThread().getName())))
          .expectNext(SlotId.B)
          .expectComplete()
          .verify(WAIT);
      assertThat(thread.get()).startsWith("slot-io");
      StepVerifier.create(store.markGood().then(store.rollback()))
          .expectNext(SlotId.A)
          .expectComplete()
          .verify(WAIT);
      StepVerifier.create(FileSlotStore.init(dir.resolve("fresh"), 1 << 20).scheduler(slotIo).rollback())
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(OtaException.class, o -> {
            assertThat(o.reason()).isEqualTo(Reason.USAGE);
            assertThat(o.getMessage()).contains("nothing to roll back");
          }))
          .verify(WAIT);
    } finally {
      slotIo.dispose();
    }
  }

  @Test
  void initMakesTheSlotFilesAndTheBootStateWithoutAllocatingTheSlots() throws IOException {
    FileSlotStore.init(dir, GIB);
    assertThat(Files.size(dir.resolve("slot-a.img"))).isZero();
    assertThat(Files.size(dir.resolve("slot-b.img"))).isZero();
    assertThat(Files.size(dir.resolve("boot-state"))).isEqualTo(2 * BootStateFile.COPY_SIZE);
    StoreStatus status = FileSlotStore.open(dir).status().block(WAIT);
    assertThat(status.slot(SlotId.A).capacity()).isEqualTo(GIB);
    assertThat(status.slot(SlotId.A).sha256()).isNull();
  }

  @Test
  void initRefusesADirectoryThatHoldsAStoreAlready() {
    FileSlotStore.init(dir, 1 << 20);
    assertThatThrownBy(() -> FileSlotStore.init(dir, 2 << 20))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.USAGE);
          assertThat(e.getMessage()).contains("already holds a slot store");
        });
    assertThat(FileSlotStore.open(dir).capacity()).isEqualTo(1 << 20);
  }

  @Test
  void initOverADamagedStoreRefusesSayingWhatForceDestroysAndChangesNothing() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(3000, 50);
    store.activate(install(store, image), Sha256.digest(image)).block(WAIT);
    Files.write(dir.resolve("boot-state"), new byte[] {1, 2, 3});
    assertRefusedLeavingTheStoreAsItWas(() -> FileSlotStore.init(dir, 2 << 20), Detail.STORE_EXISTS,
        "nothing was changed", "--force", "destroy", "slot files", "boot state", "confirmed image");
    assertThat(Detail.STORE_EXISTS.reason().exitCode()).isEqualTo(2);
    assertRefusedLeavingTheStoreAsItWas(() -> FileSlotStore.openOrInit(dir), Detail.STORE_DAMAGED,
        "changes nothing", "restore the file from a backup", "`ota init --force` re-creates the store, destroying");
  }

  @Test
  void initOverAValidStoreRefusesAndRecreateDestroysIt() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(3000, 51);
    installGood(store, image);
    Map<String, byte[]> before = files(dir);
    assertThatThrownBy(() -> FileSlotStore.init(dir, 2 << 20))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.STORE_EXISTS));
    assertThat(files(dir)).containsExactlyInAnyOrderEntriesOf(before);
    StoreStatus fresh = FileSlotStore.recreate(dir, 2 << 20).status().block(WAIT);
    assertThat(fresh).isEqualTo(BootRules.initial(2 << 20));
    assertThat(Files.size(dir.resolve("slot-b.img"))).isZero();
  }

  @Test
  void slotFilesWithoutABootStateAreNeverInitialisedOver() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    install(store, image(3000, 52));
    Files.delete(dir.resolve("boot-state"));
    Map<String, byte[]> before = files(dir);
    assertThatThrownBy(() -> FileSlotStore.openOrInit(dir))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.STORE_DAMAGED));
    assertThatThrownBy(() -> FileSlotStore.init(dir, 1 << 20))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.STORE_EXISTS));
    assertThat(files(dir)).containsExactlyInAnyOrderEntriesOf(before);
  }

  /** The store's files (not the lock files) and their bytes. */
  static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> files = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String name = p.getFileName().toString();
        if (Files.isRegularFile(p) && !name.endsWith(".lock")) {
          files.put(name, Files.readAllBytes(p));
        }
      }
    }
    return files;
  }

  @Test
  void openWithoutAStoreSaysHowToMakeOne() {
    assertStorageError(() -> FileSlotStore.open(dir), "no slot store", "ota init");
    assertStorageError(() -> FileSlotStore.open(dir.resolve("nowhere")), "no slot store", "ota init");
  }

  @Test
  void openOrInitCreatesOneStoreWithTheDefaultSlotSizeAndThenOpensIt() throws IOException {
    FileSlotStore first = FileSlotStore.openOrInit(dir.resolve("new"));
    assertThat(first.capacity()).isEqualTo(FileSlotStore.DEFAULT_SLOT_SIZE).isEqualTo(GIB);
    byte[] image = image(10_000, 1);
    first.activate(install(first, image), Sha256.digest(image)).block(WAIT);
    FileSlotStore again = FileSlotStore.openOrInit(dir.resolve("new"));
    assertThat(again.status().block(WAIT).next()).isEqualTo(SlotId.B);
  }

  @Test
  void openOrInitDoesNotReplaceADamagedStore() throws IOException {
    FileSlotStore.init(dir, 1 << 20);
    Files.write(dir.resolve("boot-state"), new byte[2 * BootStateFile.COPY_SIZE]);
    assertStorageError(() -> FileSlotStore.openOrInit(dir), "damaged in both copies", "will not guess");
  }

  @Test
  void aSecondWriterThroughAnotherStoreObjectIsBusyAndChangesNothing() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    SlotWriter first = store.openWriter(spec(image(1000, 2))).block(WAIT);
    first.write(ByteBuffer.wrap(image(1000, 2)));
    first.sync(null);
    StoreStatus before = FileSlotStore.open(dir).status().block(WAIT);
    byte[] stateBefore = Files.readAllBytes(dir.resolve("boot-state"));
    assertStorageError(() -> FileSlotStore.open(dir).openWriter(spec(image(10, 3))).block(WAIT), "busy");
    assertStorageError(() -> FileSlotStore.open(dir).activate(SlotId.B, Sha256.digest(image(1000, 2))).block(WAIT),
        "busy");
    assertThat(Files.readAllBytes(dir.resolve("boot-state"))).isEqualTo(stateBefore);
    assertThat(FileSlotStore.open(dir).status().block(WAIT)).isEqualTo(before);
    first.release();
    FileSlotStore.open(dir).openWriter(spec(image(10, 3))).block(WAIT).abort();
  }

  @Test
  void bootMarkGoodAndRollbackRunWhileAnUpdateWritesTheOtherSlotAndNeitherDisturbsTheOther() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] first = image(4000, 40);
    // a real device confirms the trial before it takes the next update
    assertThat(installGood(store, first)).isEqualTo(SlotId.B);

    // an agent downloads the next image into slot a while the boot script and the health check run
    byte[] second = image(20_000, 41);
    SlotWriter w = FileSlotStore.open(dir).openWriter(spec(second)).block(WAIT);
    assertThat(w.slot()).isEqualTo(SlotId.A);
    w.write(ByteBuffer.wrap(second, 0, 10_000));
    FileSlotStore.open(dir).markGood().block(WAIT);
    assertThat(FileSlotStore.open(dir).boot().block(WAIT)).isEqualTo(SlotId.B);
    assertThatThrownBy(() -> FileSlotStore.open(dir).rollback().block(WAIT))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
    w.sync("\"e\"");
    w.write(ByteBuffer.wrap(second, 10_000, 10_000));
    w.commit(new ImageMetadata(second.length, Sha256.digest(second), URI.create("https://fw.example/2"), "3.0.0"));
    w.release();

    StoreStatus status = FileSlotStore.open(dir).status().block(WAIT);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
    assertThat(status.slot(SlotId.A).sha256()).isEqualTo(Sha256.digest(second));
    assertThat(status.next()).isEqualTo(SlotId.B);
    FileSlotStore.open(dir).activate(SlotId.A, Sha256.digest(second)).block(WAIT);
    assertThat(FileSlotStore.open(dir).boot().block(WAIT)).isEqualTo(SlotId.A);
  }

  @Test
  void anUpdateDuringATrialLeavesEveryByteOfTheStoreAsItWas() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] first = image(4000, 42);
    installAndBoot(store, first);
    assertRefusedLeavingTheStoreAsItWas(() -> FileSlotStore.open(dir).openWriter(spec(image(5000, 43))).block(WAIT),
        Detail.TRIAL_RUNNING, "`ota mark-good`", "`ota rollback`", "unchanged");
  }

  @Test
  void updateBootRollbackUpdateIsRefusedAndLeavesTheStoreByteForByteAsItWas() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] first = image(4000, 44);
    installAndBoot(store, first);
    assertThat(FileSlotStore.open(dir).rollback().block(WAIT)).isEqualTo(SlotId.A);
    StoreStatus status = FileSlotStore.open(dir).status().block(WAIT);
    assertRefusedLeavingTheStoreAsItWas(() -> OtaUpdater.create().source(InMemoryFirmwareSource.of(image(5000, 45)))
        .store(FileSlotStore.open(dir)).install(UpdateRequest.of("https://fw.example/next.bin")).block(WAIT),
        Detail.REBOOT_PENDING, "reboot", "`ota boot`", "unchanged");
    assertThat(Detail.REBOOT_PENDING.reason().exitCode()).isEqualTo(9);
    assertThat(FileSlotStore.open(dir).status().block(WAIT)).isEqualTo(status);
    assertThat(FileSlotStore.open(dir).boot().block(WAIT)).as("the good image still boots").isEqualTo(SlotId.A);
  }

  @Test
  void anIoErrorAfterRollbackAndRebootSaysUnchangedAndTheRunningSlotAndBootChoiceAreUnchanged() throws IOException {
    FaultyMedium medium = new FaultyMedium();
    FileSlotStore store = storeOn(medium);
    byte[] first = image(4000, 55);
    installAndBoot(store, first);
    store.rollback().block(WAIT);
    assertThat(store.boot().block(WAIT)).isEqualTo(SlotId.A);
    StoreStatus before = store.status().block(WAIT);
    byte[] good = Files.readAllBytes(dir.resolve("slot-a.img"));
    medium.failingSync(dir.resolve("slot-b.img"));
    assertStorageError(() -> OtaUpdater.create().source(InMemoryFirmwareSource.of(image(200_000, 56))).store(store)
        .retry(0, Duration.ofMillis(1), Duration.ofMillis(1)).syncEvery(64 * 1024)
        .install(UpdateRequest.of("https://fw.example/next.bin")).block(WAIT),
        "unchanged");
    StoreStatus after = store.status().block(WAIT);
    assertThat(after.active()).as("the sentence says unchanged").isEqualTo(before.active());
    assertThat(after.next()).isEqualTo(before.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(SlotId.A)).isEqualTo(before.slot(SlotId.A));
    assertThat(Files.readAllBytes(dir.resolve("slot-a.img"))).isEqualTo(good);
    assertThat(store.boot().block(WAIT)).isEqualTo(SlotId.A);
  }

  @Test
  void aSmallerImageAfterALargerOneLeavesTheSlotFileHoldingExactlyTheImage() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 4 << 20);
    byte[] large = image(1 << 20, 46);
    byte[] middle = image(5000, 47);
    byte[] small = image(1000, 48);
    installGood(store, large);
    installGood(store, middle);
    assertThat(install(store, small)).isEqualTo(SlotId.B);
    Path slotB = dir.resolve("slot-b.img");
    assertThat(Files.size(slotB)).isEqualTo(small.length);
    assertThat(Sha256.digest(Files.readAllBytes(slotB))).isEqualTo(store.status().block(WAIT).slot(SlotId.B).sha256());
  }

  @Test
  void onADeviceTheTailOfTheEarlierImageIsZeroedBecauseItCannotBeCut() throws IOException {
    FaultyMedium medium = new FaultyMedium().device(dir.resolve("slot-b.img"));
    FileSlotStore store = FileSlotStore.create(medium, dir, 4 << 20, FileSlotStore.Existing.REFUSE);
    byte[] large = image(1 << 20, 49);
    byte[] middle = image(5000, 53);
    byte[] small = image(1000, 54);
    installGood(store, large);
    installGood(store, middle);
    assertThat(install(store, small)).isEqualTo(SlotId.B);
    byte[] onDevice = Files.readAllBytes(dir.resolve("slot-b.img"));
    assertThat(onDevice.length).as("a device keeps its size").isEqualTo(1 << 20);
    assertThat(Arrays.copyOf(onDevice, small.length)).isEqualTo(small);
    assertThat(Arrays.copyOfRange(onDevice, small.length, onDevice.length)).as("nothing of the 1 MiB image")
        .containsOnly(0);
  }

  @Test
  void ofUpdatesStartedAtOnceFromManyThreadsExactlyOneGetsTheSlot() throws Exception {
    FileSlotStore.init(dir, 1 << 20);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<SlotWriter>> attempts = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        long seed = i;
        attempts.add(pool.submit(() -> {
          FileSlotStore store = FileSlotStore.open(dir);
          start.await();
          return store.openWriter(spec(image(100, seed))).block(WAIT);
        }));
      }
      List<SlotWriter> writers = new ArrayList<>();
      int busy = 0;
      for (Future<SlotWriter> attempt : attempts) {
        try {
          writers.add(attempt.get(10, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOfSatisfying(OtaException.class,
              o -> assertThat(o.getMessage()).contains("busy"));
          busy++;
        }
      }
      assertThat(writers).hasSize(1);
      assertThat(busy).isEqualTo(threads - 1);
      writers.get(0).abort();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void bootsFromManyThreadsAtOnceCountEveryAttempt() throws Exception {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(1000, 42);
    store.activate(install(store, image), Sha256.digest(image)).block(WAIT);
    int threads = 3;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<SlotId>> boots = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        boots.add(pool.submit(() -> {
          FileSlotStore own = FileSlotStore.open(dir);
          start.await();
          return own.boot().block(WAIT);
        }));
      }
      for (Future<SlotId> boot : boots) {
        assertThat(boot.get(10, TimeUnit.SECONDS)).isEqualTo(SlotId.B);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.status().block(WAIT).slot(SlotId.B).attempts()).as("no attempt lost").isEqualTo(threads);
    assertThat(store.boot().block(WAIT)).isEqualTo(SlotId.A);
  }

  @Test
  void aMissingSlotFileFailsTheUpdateSayingWhatToDoAndKeepsTheBootChoice() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    StoreStatus before = store.status().block(WAIT);
    Files.delete(dir.resolve("slot-b.img"));
    assertStorageError(() -> store.openWriter(spec(image(100, 4))).block(WAIT), "slot-b.img is missing", "ota init");
    assertThat(store.status().block(WAIT)).isEqualTo(before);
  }

  @Test
  void aSlotFileDeletedAfterVerificationIsNotActivated() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(5000, 5);
    SlotId slot = install(store, image);
    Files.delete(dir.resolve("slot-b.img"));
    assertStorageError(() -> store.activate(slot, Sha256.digest(image)).block(WAIT), "missing");
    assertThat(store.status().block(WAIT).next()).isEqualTo(SlotId.A);
  }

  @Test
  void aReadOnlySlotFileFailsTheUpdateSayingWhatToDoAndKeepsTheBootChoice() {
    // the tests may run as root, which writes through file permissions: refuse at the file layer
    FaultyMedium medium = new FaultyMedium();
    FileSlotStore store = storeOn(medium);
    medium.readOnly(dir.resolve("slot-b.img"));
    StoreStatus before = store.status().block(WAIT);
    assertStorageError(() -> store.openWriter(spec(image(100, 6))).block(WAIT), "read-only", "writable");
    assertThat(store.status().block(WAIT)).isEqualTo(before);
  }

  @Test
  void aReallyReadOnlySlotFileFailsTheUpdateSayingWhatToDo() throws Exception {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    Path slot = dir.resolve("slot-b.img");
    boolean root = "root".equals(System.getProperty("user.name"));
    // root writes through permissions: make the file immutable instead (needs a file system with chattr)
    assumeTrue(root ? run("chattr", "+i", slot.toString()) == 0 : slot.toFile().setWritable(false),
        "cannot make a file read-only here");
    try {
      StoreStatus before = store.status().block(WAIT);
      assertStorageError(() -> store.openWriter(spec(image(100, 6))).block(WAIT), "slot-b.img is read-only",
          "writable");
      assertThat(store.status().block(WAIT)).isEqualTo(before);
    } finally {
      if (root) {
        run("chattr", "-i", slot.toString());
      } else {
        slot.toFile().setWritable(true);
      }
    }
  }

  @Test
  void aFullDiskFailsTheUpdateSayingSoAndKeepsTheBootChoice() throws IOException {
    FaultyMedium medium = new FaultyMedium();
    FileSlotStore store = storeOn(medium);
    byte[] first = image(50_000, 7);
    installGood(store, first);
    StoreStatus before = store.status().block(WAIT);
    medium.spaceLeft(100_000);
    byte[] second = image(300_000, 8);
    assertStorageError(() -> OtaUpdater.create().source(InMemoryFirmwareSource.of(second)).store(store)
        .install(UpdateRequest.of("https://fw.example/second.bin").withSha256(Sha256.digest(second))).block(WAIT),
        "is full", "Free some space");
    StoreStatus after = store.status().block(WAIT);
    assertThat(after.active()).isEqualTo(before.active());
    assertThat(after.next()).isEqualTo(before.next()).isEqualTo(SlotId.B);
    assertThat(after.slot(SlotId.B)).isEqualTo(before.slot(SlotId.B));
    assertThat(after.slot(SlotId.A).state().isBootable()).isFalse();
    assertThat(store.boot().block(WAIT)).isEqualTo(SlotId.B);
  }

  @Test
  void aFailingSyncOfTheSlotIsAStorageErrorAndNothingIsActivated() throws IOException {
    FaultyMedium medium = new FaultyMedium();
    FileSlotStore store = storeOn(medium);
    medium.failingSync(dir.resolve("slot-b.img"));
    byte[] image = image(200_000, 9);
    assertStorageError(() -> OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).store(store)
        .install(UpdateRequest.of("https://fw.example/i.bin").withSha256(Sha256.digest(image))).block(WAIT),
        "Syncing slot b", "Input/output error");
    StoreStatus after = store.status().block(WAIT);
    assertThat(after.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(SlotId.B).state().isBootable()).isFalse();
  }

  @Test
  void aFailingSyncOfTheActivationRecordLeavesTheBootChoiceAsItWas() throws IOException {
    // fsync failed, but the new record sits in the page cache: a read must not take it for the state
    FaultyMedium medium = new FaultyMedium();
    FileSlotStore store = storeOn(medium);
    byte[] image = image(100_000, 12);
    SlotId slot = install(store, image);
    StoreStatus before = store.status().block(WAIT);
    medium.failingSync(dir.resolve("boot-state"));
    assertStorageError(() -> store.activate(slot, Sha256.digest(image)).block(WAIT), "Input/output error");
    StoreStatus after = FileSlotStore.open(dir).status().block(WAIT);
    assertThat(after.next()).isEqualTo(before.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(slot).state().isBootable()).isFalse();
    assertThat(FileSlotStore.open(dir).boot().block(WAIT)).isEqualTo(SlotId.A);
  }

  @Test
  void aCorruptBootStateIsRefusedWithoutGuessingAndLeftAsItIs() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    Path state = dir.resolve("boot-state");
    byte[] garbage = new byte[2 * BootStateFile.COPY_SIZE];
    new Random(10).nextBytes(garbage);
    Files.write(state, garbage);
    assertStorageError(() -> store.status().block(WAIT), "damaged in both copies", "will not guess");
    assertStorageError(() -> store.boot().block(WAIT), "damaged in both copies");
    assertStorageError(() -> store.openWriter(spec(image(10, 11))).block(WAIT), "damaged in both copies");
    assertStorageError(() -> FileSlotStore.open(dir), "damaged in both copies", "ota init");
    assertThat(Files.readAllBytes(state)).isEqualTo(garbage);
  }

  @Test
  void aBootStateInAnUnknownFormatVersionIsRefused() throws IOException {
    FileSlotStore.init(dir, 1 << 20);
    BootStateFileTest.writeCopy(dir.resolve("boot-state"), 1, BootStateFileTest.copyWithVersion(
        BootState.initial(1 << 20), 2, 7));
    assertStorageError(() -> FileSlotStore.open(dir), "format version 2", "does not know");
  }

  @Test
  void aTornNewestCopyOfTheBootStateFallsBackToTheOneBefore() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(4000, 12);
    store.activate(install(store, image), Sha256.digest(image)).block(WAIT);
    StoreStatus activated = store.status().block(WAIT);
    store.boot().block(WAIT);
    BootStateFile.Loaded newest = new BootStateFile(FileMedium.INSTANCE, dir.resolve("boot-state")).load();
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("boot-state").toFile(), "rw")) {
      f.seek((long) newest.copy() * BootStateFile.COPY_SIZE + BootStateFile.HEADER + 3);
      f.write(0x5a ^ f.read());
    }
    assertThat(FileSlotStore.open(dir).status().block(WAIT)).isEqualTo(activated);
    assertThat(FileSlotStore.open(dir).boot().block(WAIT)).isEqualTo(SlotId.B);
    assertThat(FileSlotStore.open(dir).status().block(WAIT).slot(SlotId.B).attempts()).isEqualTo(1);
  }

  @Test
  void sizesAndOffsetsAbove2GiBAreKeptExactly() throws IOException {
    long capacity = 4 * GIB;
    long resumeAt = 3 * GIB;
    byte[] tail = image(64 * 1024, 13);
    long size = resumeAt + tail.length;
    FileSlotStore store = FileSlotStore.init(dir, capacity);
    assertStorageError(() -> store.openWriter(new ImageSpec(URI.create("https://fw.example/huge.bin"), 5 * GIB, null,
        null)).block(WAIT), "larger than", "5368709120 bytes");

    // an earlier run left 3 GiB durable in a sparse slot file (writing 3 GiB here would take too long)
    ImageSpec spec = new ImageSpec(URI.create("https://fw.example/big.bin"), size, Sha256.digest(tail), "3g");
    BootStateFile file = new BootStateFile(FileMedium.INSTANCE, dir.resolve("boot-state"));
    BootStateFile.Loaded loaded = file.load();
    file.store(loaded.state().with(SlotId.B, BootStateFileTest.writing(spec, resumeAt, "\"etag-3g\"")), loaded);
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("slot-b.img").toFile(), "rw")) {
      f.setLength(resumeAt);
    }

    SlotWriter w = FileSlotStore.open(dir).openWriter(spec).block(WAIT);
    try {
      assertThat(w.resumePoint().offset()).isEqualTo(resumeAt);
      assertThat(w.position()).isEqualTo(resumeAt);
      ByteBuffer before = ByteBuffer.allocate(16);
      assertThat(w.read(before, resumeAt - 16)).isEqualTo(16);
      assertThat(w.read(ByteBuffer.allocate(16), resumeAt)).isEqualTo(-1);
      w.write(ByteBuffer.wrap(tail));
      assertThat(w.position()).isEqualTo(size);
      w.sync("\"etag-3g\"");
      ByteBuffer back = ByteBuffer.allocate(tail.length);
      assertThat(w.read(back, resumeAt)).isEqualTo(tail.length);
      assertThat(back.array()).isEqualTo(tail);
      w.commit(new ImageMetadata(size, Sha256.digest(tail), URI.create("https://fw.example/big.bin"), "3g"));
    } finally {
      w.release();
    }
    assertThat(Files.size(dir.resolve("slot-b.img"))).isEqualTo(size);
    FileSlotStore.open(dir).activate(SlotId.B, Sha256.digest(tail)).block(WAIT);
    StoreStatus status = FileSlotStore.open(dir).status().block(WAIT);
    assertThat(status.slot(SlotId.B).size()).isEqualTo(size);
    assertThat(status.slot(SlotId.B).capacity()).isEqualTo(capacity);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
  }

  @Test
  void aCommittedImageCannotBeChangedThroughItsWriter() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(3000, 31);
    SlotWriter w = store.openWriter(spec(image)).block(WAIT);
    try {
      w.write(ByteBuffer.wrap(image));
      w.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/i"), null));
      w.sync(null);
      assertThatThrownBy(() -> w.write(ByteBuffer.wrap(new byte[1]))).isInstanceOf(IOException.class)
          .hasMessageContaining("committed image");
      assertThatThrownBy(() -> w.rewind(0)).isInstanceOf(IOException.class);
    } finally {
      w.release();
    }
    store.activate(SlotId.B, Sha256.digest(image)).block(WAIT);
    assertThat(store.status().block(WAIT).slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
  }

  @Test
  void credentialsInTheImageUrlNeverReachTheDisk() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(2000, 32);
    URI withPassword = URI.create("https://gw:s3cret-pw@fw.example/image.bin");
    SlotWriter w = store.openWriter(new ImageSpec(withPassword, image.length, null, null)).block(WAIT);
    w.write(ByteBuffer.wrap(image, 0, 1000));
    w.sync(null);
    w.release();
    SlotWriter again = store.openWriter(new ImageSpec(withPassword, image.length, null, null)).block(WAIT);
    assertThat(again.resumePoint().offset()).as("the same URL resumes").isEqualTo(1000);
    again.write(ByteBuffer.wrap(image, 1000, 1000));
    again.commit(new ImageMetadata(image.length, Sha256.digest(image), withPassword, null));
    again.release();
    assertThat(new String(Files.readAllBytes(dir.resolve("boot-state")), StandardCharsets.ISO_8859_1))
        .contains("fw.example/image.bin").doesNotContain("s3cret-pw");
  }

  @Test
  void aSlotFileCutShorterThanItsJournalStartsTheImageAgainFromZero() throws IOException {
    FileSlotStore store = FileSlotStore.init(dir, 1 << 20);
    byte[] image = image(50_000, 33);
    SlotWriter w = store.openWriter(spec(image)).block(WAIT);
    w.write(ByteBuffer.wrap(image, 0, 30_000));
    w.sync("\"e\"");
    w.release();
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("slot-b.img").toFile(), "rw")) {
      f.setLength(10_000);
    }
    SlotWriter again = FileSlotStore.open(dir).openWriter(spec(image)).block(WAIT);
    try {
      assertThat(again.resumePoint()).isEqualTo(ResumeFrom.start());
    } finally {
      again.abort();
    }
  }

  @Test
  void aWriteNeverGrowsASlotFilePastItsCapacity() throws IOException {
    long capacity = 100_000;
    FileSlotStore store = FileSlotStore.init(dir, capacity);
    SlotWriter w = store.openWriter(new ImageSpec(URI.create("https://fw.example/x.bin"), -1, null, null)).block(WAIT);
    try {
      w.write(ByteBuffer.wrap(image(99_999, 14)));
      assertStorageError(() -> w.write(ByteBuffer.wrap(new byte[2])), "larger than slot b");
      w.write(ByteBuffer.wrap(new byte[1]));
      assertStorageError(() -> w.write(ByteBuffer.wrap(new byte[1])), "larger than slot b");
    } finally {
      w.abort();
    }
    assertThat(Files.size(dir.resolve("slot-b.img"))).isEqualTo(capacity);
  }

  @Test
  void storesOnTwoDevicesKeepTheirStateApartAndNeverTruncateTheDevices() throws IOException {
    Path a = Files.write(dir.resolve("part2"), new byte[300_000]);
    Path b = Files.write(dir.resolve("part3"), new byte[300_000]);
    Path state = dir.resolve("state");
    FileSlotStore store = FileSlotStore.onDevices(a, b, state, 200_000);
    assertThat(store.slotPath(SlotId.B)).isEqualTo(b);
    byte[] image = image(150_000, 15);
    OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).store(store)
        .install(UpdateRequest.of("https://fw.example/dev.bin").withSha256(Sha256.digest(image))).block(WAIT);
    assertThat(Files.size(b)).isEqualTo(300_000);
    assertThat(Arrays.copyOf(Files.readAllBytes(b), image.length)).isEqualTo(image);
    assertThat(Arrays.copyOfRange(Files.readAllBytes(b), image.length, 200_000)).as("zeros past the image")
        .containsOnly(0);
    FileSlotStore again = FileSlotStore.onDevices(a, b, state, 200_000);
    assertThat(again.boot().block(WAIT)).isEqualTo(SlotId.B);
    assertStorageError(() -> FileSlotStore.onDevices(a, b, state, 100_000), "made for slots of 200000 bytes");
    assertStorageError(() -> FileSlotStore.onDevices(a, dir.resolve("part9"), state, 200_000), "part9 is missing");
  }

  @Test
  void aRealFullFileSystemFailsTheUpdateSayingSoAndTheBootStateStillChanges() throws Exception {
    Path small = Files.createDirectories(dir.resolve("small"));
    assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small.toString()) == 0,
        "mounting a 2 MiB tmpfs needs root");
    try {
      FileSlotStore store = FileSlotStore.init(small.resolve("store"), 8 << 20);
      byte[] image = image(4 << 20, 16);
      assertStorageError(() -> OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).store(store)
          .syncEvery(256 * 1024)
          .install(UpdateRequest.of("https://fw.example/big.bin").withSha256(Sha256.digest(image))).block(WAIT),
          "is full", "No space left on device", "Free some space");
      StoreStatus after = store.status().block(WAIT);
      assertThat(after.next()).isEqualTo(SlotId.A);
      assertThat(after.slot(SlotId.B).state()).isEqualTo(SlotState.WRITING);
      // the state's blocks were written when the store was made: a full disk cannot stop a boot
      assertThat(store.boot().block(WAIT)).isEqualTo(SlotId.A);
    } finally {
      run("umount", "-l", small.toString());
    }
  }

  @Test
  void aStoreOnTwoLoopDevicesInstallsAnImageAndRefusesASlotLargerThanTheDevice() throws Exception {
    Path backingA = dir.resolve("a.img");
    Path backingB = dir.resolve("b.img");
    try (RandomAccessFile a = new RandomAccessFile(backingA.toFile(), "rw");
        RandomAccessFile b = new RandomAccessFile(backingB.toFile(), "rw")) {
      a.setLength(4 << 20);
      b.setLength(4 << 20);
    }
    String deviceA = attachLoop(backingA);
    assumeTrue(deviceA != null, "attaching a loop device needs root and losetup");
    String deviceB = attachLoop(backingB);
    try {
      assumeTrue(deviceB != null, "a second loop device is needed");
      Path a = Path.of(deviceA);
      Path b = Path.of(deviceB);
      assertStorageError(() -> FileSlotStore.onDevices(a, b, dir.resolve("state"), 8 << 20),
          "holds 4194304 bytes, less than the slot size");
      FileSlotStore store = FileSlotStore.onDevices(a, b, dir.resolve("state"), 4 << 20);
      byte[] image = image(3 << 20, 17);
      OtaUpdater.create().source(InMemoryFirmwareSource.of(image)).store(store).syncEvery(1 << 20)
          .install(UpdateRequest.of("https://fw.example/dev.bin").withSha256(Sha256.digest(image))).block(WAIT);
      byte[] onDevice = new byte[image.length];
      try (RandomAccessFile device = new RandomAccessFile(b.toFile(), "r")) {
        device.readFully(onDevice);
      }
      assertThat(onDevice).isEqualTo(image);
      assertThat(FileSlotStore.onDevices(a, b, dir.resolve("state"), 4 << 20).boot().block(WAIT)).isEqualTo(SlotId.B);
    } finally {
      run("losetup", "-d", deviceA);
      if (deviceB != null) {
        run("losetup", "-d", deviceB);
      }
    }
  }

  private static @Nullable String attachLoop(Path backing) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder("losetup", "-f", "--show", backing.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      return null;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return p.waitFor() == 0 && out.startsWith("/dev/") ? out : null;
  }

  private static int run(String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor();
    } catch (IOException e) {
      return -1;
    }
  }


  static SlotId install(SlotStore store, byte[] image) throws IOException {
    SlotWriter w = store.openWriter(spec(image)).block(WAIT);
    w.write(ByteBuffer.wrap(image));
    w.sync("\"v1\"");
    w.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/image.bin"), "2.0.0"));
    w.release();
    return w.slot();
  }

  /** A new 1 MiB store in the test's folder, whose files go through this medium. */
  private FileSlotStore storeOn(FaultyMedium medium) {
    return FileSlotStore.create(medium, dir, 1 << 20, FileSlotStore.Existing.REFUSE);
  }

  /** Installs the image, activates it as the trial and boots once; returns the slot booted. */
  static SlotId installAndBoot(SlotStore store, byte[] image) throws IOException {
    store.activate(install(store, image), Sha256.digest(image)).block(WAIT);
    return store.boot().block(WAIT);
  }

  /** Installs, activates and boots the image, then confirms it: the image is the good one. */
  static SlotId installGood(SlotStore store, byte[] image) throws IOException {
    SlotId booted = installAndBoot(store, image);
    store.markGood().block(WAIT);
    return booted;
  }

  /**
   * The call fails with this detail (and its reason) and a sentence holding every fragment, and
   * leaves the slot files and the boot state byte for byte as they were.
   */
  private void assertRefusedLeavingTheStoreAsItWas(ThrowingCallable call, Detail detail, String... fragments)
      throws IOException {
    Map<String, byte[]> before = files(dir);
    assertThatThrownBy(call).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.detail()).isEqualTo(detail);
      assertThat(e.reason()).isEqualTo(detail.reason());
      assertThat(e.getMessage()).contains(fragments);
    });
    assertThat(files(dir)).as("slot files and boot state, byte for byte").containsExactlyInAnyOrderEntriesOf(before);
  }

  static void assertStorageError(ThrowingCallable call, String... fragments) {
    assertThatThrownBy(call).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.reason()).isEqualTo(Reason.STORAGE);
      for (String f : fragments) {
        assertThat(e.getMessage()).containsIgnoringCase(f);
      }
    });
  }
}
