package io.otaflux.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotReader;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link SlotStore} keeps: the {@link BootRules}, checked step by step
 * (random walks through the store and through the rules must give the same status), the
 * refusals before a byte is written, the writer's session and resume, the running slot read back
 * for a delta update. An implementation's test
 * extends this class and says how to make a fresh store (a test may make several);
 * everything else is inherited:
 *
 * <pre>{@code
 * class FileSlotStoreTest extends SlotStoreCompatibilityKit {
 *   @TempDir Path dir;
 *   int stores;
 *   protected SlotStore newStore(long capacity) { return FileSlotStore.init(dir.resolve("s" + stores++), capacity); }
 * }
 * }</pre>
 */
public abstract class SlotStoreCompatibilityKit {

  /** Every blocking call in the kit waits at most this long. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(10);

  /**
   * A fresh store: slot {@code a} good and running, slot {@code b} empty, each holding
   * {@code capacity} bytes.
   *
   * @param capacity the slot size
   * @return the store
   */
  protected abstract SlotStore newStore(long capacity);

  /**
   * The same store as seen by a new process (reopened from its medium). Stores that live in
   * memory return it as it is.
   *
   * @param store a store made by {@link #newStore}
   * @return the store reopened
   */
  protected SlotStore reopen(SlotStore store) {
    return store;
  }

  /**
   * One boot of the device: by default the store's {@link SlotStore#boot()}, what a boot script
   * calls. A store whose bootloader counts boots (it never counts them itself) overrides this with
   * what the bootloader and the device do instead: the bootloader's script run on its
   * environment, the running slot it chose given to the kernel, and the confirmation a healthy
   * device gives a slot that is good already. The rules' checks stay the kit's.
   *
   * @param store the store
   * @return the slot booted
   */
  protected SlotId bootOnce(SlotStore store) {
    return store.boot().block(TIMEOUT);
  }

  /**
   * How many unconfirmed boots a trial gets before the good slot returns: {@link
   * BootRules#MAX_TRIAL_BOOTS} unless the store's bootloader counts otherwise (GRUB gives one try).
   *
   * @return the boots
   */
  protected int trialBoots() {
    return BootRules.MAX_TRIAL_BOOTS;
  }

  /**
   * What the status says after {@link #bootOnce}: {@link BootRules#boot}. A store whose bootloader
   * gives a trial one try (GRUB) reports its attempts used up after that boot.
   *
   * @param state the status before the boot
   * @return the status after it
   */
  protected StoreStatus expectedBoot(StoreStatus state) {
    return BootRules.boot(state);
  }

  /**
   * An image for a test: {@code size} random bytes from {@code seed}.
   *
   * @param size the size in bytes
   * @param seed the seed
   * @return the bytes
   */
  protected static byte[] image(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /**
   * What an update asks a store for when it writes {@code image}: its size, digest and version
   * 2.0.0, from {@code https://fw.example/image.bin}.
   *
   * @param image the image
   * @return the spec
   */
  protected static ImageSpec spec(byte[] image) {
    return new ImageSpec(URI.create("https://fw.example/image.bin"), image.length, Sha256.digest(image), "2.0.0");
  }

  static StoreStatus status(SlotStore store) {
    return store.status().block(TIMEOUT);
  }

  static SlotWriter open(SlotStore store, ImageSpec spec) {
    return store.openWriter(spec).block(TIMEOUT);
  }

  /** Writes, syncs and commits an image and releases the writer; returns the slot. */
  static SlotId install(SlotStore store, byte[] image) throws IOException {
    SlotWriter w = open(store, spec(image));
    w.write(ByteBuffer.wrap(image));
    w.sync("\"v1\"");
    w.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/image.bin"), "2.0.0"));
    w.release();
    return w.slot();
  }

  /**
   * Opens a writer for {@code image} and writes and syncs its first {@code durable} bytes.
   *
   * @param store the store
   * @param image the image
   * @param durable how many bytes are written and synced
   * @param validator the validator synced with them
   * @return the open writer
   * @throws IOException if the store fails
   */
  static SlotWriter writeDurably(SlotStore store, byte[] image, int durable, @Nullable String validator)
      throws IOException {
    SlotWriter w = open(store, spec(image));
    w.write(ByteBuffer.wrap(image, 0, durable));
    w.sync(validator);
    return w;
  }

  static byte[] readBack(SlotWriter w, int length) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(length);
    long at = 0;
    while (dst.hasRemaining()) {
      int n = w.read(dst, at);
      if (n < 0) {
        break;
      }
      at += n;
    }
    return java.util.Arrays.copyOf(dst.array(), dst.position());
  }

  /**
   * A fresh store (1 MiB slots) whose slot {@code b} holds an image of {@code size} random bytes
   * from {@code seed}, installed and activated: the next boot's choice, not booted yet.
   */
  private SlotStore activatedStore(int size, long seed) throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(size, seed);
    store.activate(install(store, image), Sha256.digest(image)).block(TIMEOUT);
    return store;
  }

  @Test
  void freshStoreRunsSlotAAndHasSlotBEmpty() {
    StoreStatus status = status(newStore(1 << 20));
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.A).state()).isEqualTo(SlotState.GOOD);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(status.slot(SlotId.B).capacity()).isEqualTo(1 << 20);
  }

  @Test
  void writerOpensOnTheInactiveSlotAndMarksItWriting() {
    SlotStore store = newStore(1 << 20);
    SlotWriter w = open(store, spec(image(100, 1)));
    try {
      assertThat(w.slot()).isEqualTo(SlotId.B);
      assertThat(w.capacity()).isEqualTo(1 << 20);
      assertThat(w.resumePoint()).isEqualTo(ResumeFrom.start());
      assertThat(status(store).slot(SlotId.B).state()).isEqualTo(SlotState.WRITING);
      assertThat(status(store).next()).isEqualTo(SlotId.A);
    } finally {
      w.abort();
    }
  }

  @Test
  void secondWriterWhileOneIsOpenFailsBusyAndTouchesNothing() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(1000, 2);
    SlotWriter first = writeDurably(store, image, 500, null);
    StoreStatus before = status(store);
    assertThatThrownBy(() -> open(store, spec(image(10, 3))))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.STORAGE);
          assertThat(e.getMessage()).containsIgnoringCase("busy");
        });
    assertThat(status(store)).isEqualTo(before);
    first.write(ByteBuffer.wrap(image, 500, 500));
    first.abort();
  }

  @Test
  void writerCanBeOpenedAgainOnceTheFirstIsReleased() {
    SlotStore store = newStore(1 << 20);
    open(store, spec(image(10, 4))).release();
    SlotWriter again = open(store, spec(image(10, 5)));
    again.abort();
  }

  @Test
  void imageKnownToBeLargerThanTheSlotIsRefusedBeforeAnythingIsWritten() {
    SlotStore store = newStore(1000);
    StoreStatus before = status(store);
    assertThatThrownBy(() -> open(store, new ImageSpec(URI.create("https://fw.example/big.bin"), 1001, null, null)))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.STORAGE);
          assertThat(e.getMessage()).contains("larger than");
        });
    assertThat(status(store)).isEqualTo(before);
  }

  @Test
  void writePastTheCapacityFailsWithStorage() throws IOException {
    SlotStore store = newStore(1000);
    SlotWriter w = open(store, new ImageSpec(URI.create("https://fw.example/unknown.bin"), -1, null, null));
    try {
      w.write(ByteBuffer.wrap(image(900, 6)));
      assertThatThrownBy(() -> w.write(ByteBuffer.wrap(image(200, 7))))
          .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.STORAGE));
    } finally {
      w.abort();
    }
    assertThat(status(store).next()).isEqualTo(SlotId.A);
  }

  @Test
  void readBackReturnsTheBytesWritten() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(70_000, 8);
    SlotWriter w = open(store, spec(image));
    try {
      w.write(ByteBuffer.wrap(image, 0, 30_000));
      w.write(ByteBuffer.wrap(image, 30_000, 40_000));
      assertThat(w.position()).isEqualTo(70_000);
      assertThat(readBack(w, 70_000)).isEqualTo(image);
    } finally {
      w.abort();
    }
  }

  @Test
  void committedImageDoesNotBootUntilActivated() throws IOException {
    SlotStore store = newStore(1 << 20);
    install(store, image(5000, 9));
    assertThat(status(store).next()).isEqualTo(SlotId.A);
    assertThat(bootOnce(store)).isEqualTo(SlotId.A);
  }

  @Test
  void activateMakesTheCommittedSlotATrialAndTheNextBootChoice() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(5000, 10);
    SlotId slot = install(store, image);
    store.activate(slot, Sha256.digest(image)).block(TIMEOUT);
    StoreStatus status = reopenedStatus(store);
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
    assertThat(status.slot(SlotId.B).size()).isEqualTo(5000);
    assertThat(status.slot(SlotId.B).sha256()).isEqualTo(Sha256.digest(image));
    assertThat(status.slot(SlotId.B).version()).isEqualTo("2.0.0");
    assertThat(status.slot(SlotId.B).attempts()).isZero();
  }

  @Test
  void activateWithAnotherDigestIsRefusedAndChangesNothing() throws IOException {
    SlotStore store = newStore(1 << 20);
    SlotId slot = install(store, image(5000, 11));
    StoreStatus before = status(store);
    assertThatThrownBy(() -> store.activate(slot, Sha256.digest(new byte[] {1})).block(TIMEOUT))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.STORAGE));
    assertThat(status(store)).isEqualTo(before);
  }

  @Test
  void aTrialBootsThreeTimesUnconfirmedThenTheGoodSlotReturnsAndTheTrialIsInvalid() throws IOException {
    SlotStore store = activatedStore(4000, 12);
    for (int boot = 1; boot <= trialBoots(); boot++) {
      StoreStatus expected = expectedBoot(reopenedStatus(store));
      assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.B);
      assertThat(reopenedStatus(store).slot(SlotId.B).attempts()).isEqualTo(expected.slot(SlotId.B).attempts());
      assertThat(expected.slot(SlotId.B).attempts()).isPositive();
    }
    assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.A);
    StoreStatus status = reopenedStatus(store);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.INVALID);
    assertThat(status.active()).isEqualTo(SlotId.A);
    assertThat(status.next()).isEqualTo(SlotId.A);
  }

  @Test
  void markGoodConfirmsTheRunningTrialAndKeepsItTheBootChoice() throws IOException {
    SlotStore store = activatedStore(4000, 13);
    assertThat(bootOnce(store)).isEqualTo(SlotId.B);
    reopen(store).markGood().block(TIMEOUT);
    StoreStatus status = reopenedStatus(store);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
    assertThat(status.slot(SlotId.A).state()).isEqualTo(SlotState.GOOD);
    for (int boot = 0; boot < 5; boot++) {
      assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.B);
    }
  }

  @Test
  void markGoodOnAGoodSlotChangesNothing() {
    SlotStore store = newStore(1 << 20);
    StoreStatus before = status(store);
    store.markGood().block(TIMEOUT);
    assertThat(status(store)).isEqualTo(before);
  }

  @Test
  void rollbackOfARunningTrialMakesTheGoodSlotTheBootChoiceAndInvalidatesTheTrial() throws IOException {
    SlotStore store = activatedStore(4000, 14);
    bootOnce(store);
    assertThat(store.rollback().block(TIMEOUT)).isEqualTo(SlotId.A);
    StoreStatus status = reopenedStatus(store);
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(status.slot(SlotId.B).state()).isEqualTo(SlotState.INVALID);
    assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.A);
  }

  @Test
  void rollbackAfterConfirmationReturnsToTheOlderGoodSlot() throws IOException {
    SlotStore store = activatedStore(4000, 15);
    bootOnce(store);
    store.markGood().block(TIMEOUT);
    assertThat(store.rollback().block(TIMEOUT)).isEqualTo(SlotId.A);
    assertThat(bootOnce(store)).isEqualTo(SlotId.A);
    assertThat(status(store).slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
  }

  @Test
  void rollbackWithNoOtherGoodSlotFailsAndChangesNothing() {
    SlotStore store = newStore(1 << 20);
    StoreStatus before = status(store);
    assertThatThrownBy(() -> store.rollback().block(TIMEOUT))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.USAGE);
          assertThat(e.getMessage()).contains("nothing to roll back");
        });
    assertThat(status(store)).isEqualTo(before);
  }

  @Test
  void aReleasedWriteOfTheSameImageResumesFromTheDurableOffset() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(100_000, 16);
    SlotWriter first = writeDurably(store, image, 40_000, "\"etag-1\"");
    first.write(ByteBuffer.wrap(image, 40_000, 10_000));
    first.release();

    SlotWriter second = open(reopen(store), spec(image));
    try {
      assertThat(second.slot()).isEqualTo(SlotId.B);
      assertThat(second.resumePoint()).isEqualTo(new ResumeFrom(40_000, "\"etag-1\""));
      assertThat(readBack(second, 40_000)).isEqualTo(java.util.Arrays.copyOf(image, 40_000));
      second.rewind(40_000);
      second.write(ByteBuffer.wrap(image, 40_000, 60_000));
      second.commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/i"), null));
      assertThat(readBack(second, 100_000)).isEqualTo(image);
    } finally {
      second.release();
    }
  }

  @Test
  void anotherImageStartsFromZero() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(100_000, 17);
    SlotWriter first = writeDurably(store, image, 40_000, "\"etag-1\"");
    first.release();

    SlotWriter second = open(reopen(store), spec(image(100_000, 18)));
    try {
      assertThat(second.resumePoint()).isEqualTo(ResumeFrom.start());
      assertThat(second.position()).isZero();
    } finally {
      second.abort();
    }
  }

  @Test
  void abortLeavesTheSlotUnbootableForgetsTheJournalAndKeepsTheBootChoice() throws IOException {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(50_000, 19);
    SlotWriter w = writeDurably(store, image, 20_000, null);
    w.abort();
    w.abort();
    StoreStatus status = reopenedStatus(store);
    assertThat(status.slot(SlotId.B).state().isBootable()).isFalse();
    assertThat(status.next()).isEqualTo(SlotId.A);
    assertThat(status.active()).isEqualTo(SlotId.A);
    SlotWriter again = open(reopen(store), spec(image));
    assertThat(again.resumePoint()).isEqualTo(ResumeFrom.start());
    again.abort();
  }

  @Test
  void anUpdateAfterAnActivationNotYetBootedIsRefusedUntilTheRebootOrARollback() throws IOException {
    SlotStore store = activatedStore(4000, 20);
    StoreStatus before = status(store);
    assertRefused(store, Detail.REBOOT_PENDING, "reboot", "ota rollback");
    assertThat(reopenedStatus(store)).isEqualTo(before);
    // `ota rollback` drops the activation; then the update writes the dropped slot, never the good one
    assertThat(store.rollback().block(TIMEOUT)).isEqualTo(SlotId.A);
    SlotWriter w = open(reopen(store), spec(image(4000, 21)));
    try {
      assertThat(w.slot()).isEqualTo(SlotId.B);
      assertThat(status(store).next()).isEqualTo(SlotId.A);
    } finally {
      w.abort();
    }
    assertThat(bootOnce(store)).isEqualTo(SlotId.A);
  }

  @Test
  void anUpdateDuringAnUnconfirmedTrialIsRefusedBeforeAByteIsWritten() throws IOException {
    SlotStore store = activatedStore(4000, 30);
    assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.B);
    StoreStatus before = status(store);
    assertRefused(store, Detail.TRIAL_RUNNING, "ota mark-good", "ota rollback");
    assertThat(reopenedStatus(store)).isEqualTo(before);
    // the trial still counts its boots, and still falls back to the untouched good slot
    for (int boot = 2; boot <= trialBoots(); boot++) {
      assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.B);
    }
    assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.A);
    assertThat(reopenedStatus(store).slot(SlotId.A).state()).isEqualTo(SlotState.GOOD);
  }

  @Test
  void anUpdateAfterARollbackBeforeTheRebootIsRefusedAndNeverWritesTheBootChoice() throws IOException {
    SlotStore store = activatedStore(4000, 31);
    bootOnce(store);
    store.rollback().block(TIMEOUT);
    StoreStatus before = status(store);
    assertThat(before.next()).isEqualTo(SlotId.A);
    assertRefused(store, Detail.REBOOT_PENDING, "reboot", "ota boot");
    assertThat(reopenedStatus(store)).isEqualTo(before);
    // after the reboot into the good slot, the update writes the rolled-back slot
    assertThat(bootOnce(reopen(store))).isEqualTo(SlotId.A);
    assertThat(install(reopen(store), image(3000, 32))).isEqualTo(SlotId.B);
    assertThat(reopenedStatus(store).next()).isEqualTo(SlotId.A);
  }

  @Test
  void afterAFallbackTheUpdateWritesTheFailedSlotNeverTheGoodOne() throws IOException {
    SlotStore store = activatedStore(4000, 33);
    for (int boot = 0; boot <= trialBoots(); boot++) {
      bootOnce(store);
    }
    assertThat(status(store).active()).isEqualTo(SlotId.A);
    assertThat(install(reopen(store), image(3000, 34))).isEqualTo(SlotId.B);
  }

  @Test
  void theUpdaterSurfacesATrialRefusalWithoutEventsAndWithoutOpeningTheSource() throws IOException {
    SlotStore store = activatedStore(4000, 35);
    bootOnce(store);
    StoreStatus before = status(store);
    byte[] second = image(5000, 36);
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(second);
    java.util.List<io.otaflux.UpdateEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    assertThatThrownBy(() -> OtaUpdater.create().source(source).store(store)
        .update(UpdateRequest.of("https://fw.example/second.bin")).doOnNext(events::add).blockLast(TIMEOUT))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(Detail.TRIAL_RUNNING);
          assertThat(e.reason()).isEqualTo(Reason.POLICY);
          assertThat(e.reason().exitCode()).isEqualTo(9);
        });
    assertThat(events).isEmpty();
    assertThat(source.opens()).isEmpty();
    assertThat(reopenedStatus(store)).isEqualTo(before);
  }

  /**
   * Random walks of installs, interrupted and aborted writes, activations, boots, confirmations
   * and rollbacks, through the store and through {@link BootRules}: after each step both give the
   * same status, or both refuse with the same detail.
   */
  @Test
  void randomSequencesFollowTheBootRulesStepByStep() throws IOException {
    long seed = Long.getLong("otaflux.kit.seed", System.nanoTime());
    Random random = new Random(seed);
    for (int walk = 0; walk < 6; walk++) {
      SlotStore store = newStore(64 * 1024);
      StoreStatus model = BootRules.initial(64 * 1024);
      Sha256 committed = null;
      for (int step = 0; step < 40; step++) {
        int op = random.nextInt(8);
        String what = "seed " + seed + ", walk " + walk + ", step " + step + ", op " + op;
        byte[] image = image(1 + random.nextInt(20_000), random.nextLong());
        Sha256 digest = Sha256.digest(image);
        SlotStore s = reopen(store);
        OtaException storeFailure = null;
        OtaException modelFailure = null;
        StoreStatus expected = model;
        try {
          switch (op) {
            case 0: // a whole install, not activated
            case 1:
              expected = BootRules.commit(BootRules.beginWriting(model, 0), BootRules.writableSlot(model),
                  metadata(image));
              break;
            case 2: // an interrupted write, released without a commit
              expected = BootRules.written(BootRules.beginWriting(model, 0), BootRules.writableSlot(model),
                  image.length / 2);
              break;
            case 3: // an aborted write
              expected = BootRules.abort(BootRules.beginWriting(model, 0), BootRules.writableSlot(model));
              break;
            case 4:
              expected = BootRules.activate(model, model.inactive(), committed != null ? committed : digest);
              break;
            case 5:
              expected = expectedBoot(model);
              break;
            case 6:
              expected = BootRules.markGood(model);
              break;
            default:
              expected = BootRules.rollback(model);
              break;
          }
        } catch (OtaException e) {
          modelFailure = e;
        }
        try {
          switch (op) {
            case 0:
            case 1:
              install(s, image);
              committed = digest;
              break;
            case 2: {
              SlotWriter w = writeDurably(s, image, image.length / 2, null);
              w.release();
              committed = null;
              break;
            }
            case 3: {
              SlotWriter w = open(s, spec(image));
              w.write(ByteBuffer.wrap(image, 0, image.length / 3));
              w.abort();
              committed = null;
              break;
            }
            case 4:
              s.activate(model.inactive(), committed != null ? committed : digest).block(TIMEOUT);
              break;
            case 5:
              assertThat(bootOnce(s)).as(what).isEqualTo(expected.active());
              break;
            case 6:
              s.markGood().block(TIMEOUT);
              break;
            default:
              assertThat(s.rollback().block(TIMEOUT)).as(what).isEqualTo(expected.next());
              break;
          }
        } catch (OtaException e) {
          storeFailure = e;
        }
        if (modelFailure != null) {
          assertThat(storeFailure).as(what + ": the rules refuse with " + modelFailure.detail()).isNotNull();
          assertThat(storeFailure.detail()).as(what).isEqualTo(modelFailure.detail());
          assertThat(status(reopen(store))).as(what + ": a refusal changes nothing").isEqualTo(model);
        } else {
          assertThat(storeFailure).as(what).isNull();
          assertThat(status(reopen(store))).as(what).isEqualTo(expected);
          model = expected;
        }
      }
    }
  }

  private static ImageMetadata metadata(byte[] image) {
    return new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/image.bin"), "2.0.0");
  }

  /** Opening a writer is refused with {@code detail}, a sentence naming the way out, and nothing changed. */
  private void assertRefused(SlotStore store, Detail detail, String... sentence) {
    StoreStatus before = status(store);
    assertThatThrownBy(() -> open(reopen(store), spec(image(2000, 99))))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(detail);
          assertThat(e.reason()).isEqualTo(Reason.POLICY);
          assertThat(e.getMessage()).contains(sentence).contains("unchanged");
        });
    assertThat(reopenedStatus(store)).isEqualTo(before);
  }

  @Test
  void aSecondUpdateAfterConfirmationWritesTheOtherSlot() throws IOException {
    SlotStore store = activatedStore(3000, 22);
    bootOnce(store);
    store.markGood().block(TIMEOUT);
    byte[] second = image(3000, 23);
    SlotId slot = install(reopen(store), second);
    assertThat(slot).isEqualTo(SlotId.A);
    store.activate(slot, Sha256.digest(second)).block(TIMEOUT);
    assertThat(bootOnce(store)).isEqualTo(SlotId.A);
  }

  @Test
  void theUpdaterInstallsAnImageEndToEnd() {
    SlotStore store = newStore(1 << 20);
    byte[] image = image(300_000, 24);
    UpdateResult result = OtaUpdater.create()
        .source(InMemoryFirmwareSource.of(image).chunkSize(10_000).breakAt(123_457))
        .store(store)
        .retry(2, Duration.ofMillis(1), Duration.ofMillis(10))
        .syncEvery(64 * 1024)
        .install(UpdateRequest.of("https://fw.example/image.bin").withSha256(Sha256.digest(image)))
        .block(TIMEOUT);
    assertThat(result.slot()).isEqualTo(SlotId.B);
    assertThat(result.activated()).isTrue();
    StoreStatus status = reopenedStatus(store);
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(status.slot(SlotId.B).sha256()).isEqualTo(Sha256.digest(image));
  }

  @Test
  void aChunkIndexKeptWithASlotIsReadBackAsSavedPerSlotAndReplacedByTheNextSave() {
    SlotStore store = newStore(1 << 20);
    byte[] first = image(5000, 25);
    byte[] second = image(7000, 26);
    assertThat(store.loadChunkIndex(SlotId.B).blockOptional(TIMEOUT)).isEmpty();

    store.saveChunkIndex(SlotId.B, first).block(TIMEOUT);
    if (reopen(store).loadChunkIndex(SlotId.B).blockOptional(TIMEOUT).isEmpty()) {
      return; // a store that keeps nothing (the SPI's default): every delta scans the running slot
    }
    store.saveChunkIndex(SlotId.A, second).block(TIMEOUT);
    assertThat(reopen(store).loadChunkIndex(SlotId.B).block(TIMEOUT)).isEqualTo(first);
    assertThat(reopen(store).loadChunkIndex(SlotId.A).block(TIMEOUT)).isEqualTo(second);
    store.saveChunkIndex(SlotId.B, second).block(TIMEOUT);
    assertThat(reopen(store).loadChunkIndex(SlotId.B).block(TIMEOUT)).isEqualTo(second);
  }

  @Test
  void theRunningSlotReadsItsCommittedImageAsATrialOnceConfirmedAndWhileAnUpdateWritesTheOther()
      throws IOException {
    byte[] image = image(5000, 27);
    SlotStore store = activatedStore(image.length, 27);
    assertThat(bootOnce(store)).isEqualTo(SlotId.B);
    SlotReader trial;
    try {
      trial = reopen(store).openRunning().block(TIMEOUT);
    } catch (OtaException e) {
      if (e.detail() == Detail.NOT_ALLOWED_NOW) {
        return; // a store that cannot read its running slot (the SPI's default): every delta downloads the whole image
      }
      throw e;
    }
    assertRunningHolds(trial, SlotId.B, image);
    reopen(store).markGood().block(TIMEOUT);
    assertRunningHolds(reopen(store).openRunning().block(TIMEOUT), SlotId.B, image);
    // the update asking holds the store's update lock: reading the running slot must neither wait for it nor fail
    SlotWriter writer = writeDurably(reopen(store), image(6000, 28), 6000, null);
    try {
      assertThat(writer.slot()).isEqualTo(SlotId.A);
      assertRunningHolds(reopen(store).openRunning().block(TIMEOUT), SlotId.B, image);
    } finally {
      writer.release();
    }
  }

  private static void assertRunningHolds(SlotReader reader, SlotId slot, byte[] image) throws IOException {
    try (reader) {
      assertThat(reader.slot()).isEqualTo(slot);
      assertThat(reader.size()).isEqualTo(image.length);
      assertThat(reader.sha256()).contains(Sha256.digest(image));
      ByteBuffer dst = ByteBuffer.allocate(image.length + 100);
      long at = 0;
      for (int n = reader.read(dst, at); n >= 0; n = reader.read(dst, at)) {
        at += n;
      }
      assertThat(java.util.Arrays.copyOf(dst.array(), dst.position())).isEqualTo(image);
      assertThat(reader.read(ByteBuffer.allocate(1), image.length)).isEqualTo(-1);
    }
    reader.close();
  }

  private StoreStatus reopenedStatus(SlotStore store) {
    return status(reopen(store));
  }
}
