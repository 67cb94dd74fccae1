package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.scheduler.Schedulers;

/**
 * Cuts the power at every write, sync, create, truncate, rename and directory sync of a whole
 * life cycle (init, update, activate, boots, an aborted update, an update interrupted and resumed with a
 * mark-good and a boot in the middle of it, a trial that never confirms, a third update, rollback), in three ways each (unsynced data all lost, all
 * kept, torn by sector at random), and checks what a restarted device finds.
 */
class PowerCutTest {

  private static final Logger log = LoggerFactory.getLogger(PowerCutTest.class);
  private static final Path DIR = Path.of("/sim/store");
  private static final long CAPACITY = 64 * 1024;
  private static final int CHUNK = 4096;

  private static final byte[] IMAGE_1 = image(40 * 1024 + 100, 1);
  private static final byte[] IMAGE_2 = image(24 * 1024 + 7, 2);
  private static final byte[] IMAGE_3 = image(16 * 1024, 3);

  /** One step of the cycle: what a process does between two points a person could observe. */
  private static final class Step {
    final String name;
    final byte @Nullable [] image;
    final Action action;

    Step(String name, byte @Nullable [] image, Action action) {
      this.name = name;
      this.image = image;
      this.action = action;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  @FunctionalInterface
  private interface Action {
    void run(Device device) throws IOException;
  }

  /** The device under test: its medium, and the write session that spans several steps. */
  private static final class Device {
    final CrashMedium medium;
    @Nullable SlotWriter writer;

    Device(CrashMedium medium) {
      this.medium = medium;
    }

    FileSlotStore store() {
      return FileSlotStore.open(medium, Layout.inDirectory(DIR)).scheduler(Schedulers.immediate());
    }

    SlotWriter writer() {
      SlotWriter w = writer;
      assertThat(w).as("an open writer").isNotNull();
      return w;
    }
  }

  private final List<Step> steps = new ArrayList<>();
  private int markGoodStep = -1;

  private void step(String name, byte @Nullable [] image, Action action) {
    steps.add(new Step(name, image, action));
  }

  /** An update as steps: open, write and sync every {@code syncEvery} bytes, commit, release. */
  private void update(byte[] image, int syncEvery, int interruptAfter) {
    update(image, syncEvery, interruptAfter, () -> { });
  }

  /** As above, with {@code meanwhile} adding steps of another process after the first sync. */
  private void update(byte[] image, int syncEvery, int interruptAfter, Runnable meanwhile) {
    String id = "image " + Sha256.digest(image).hex().substring(0, 8);
    step("open writer for " + id, image, d -> {
      d.writer = d.store().openWriter(spec(image)).block();
      assertThat(d.writer().resumePoint().offset()).isZero();
    });
    int at = 0;
    while (at < image.length) {
      int from = at;
      int to = Math.min(image.length, at + syncEvery);
      if (to < image.length) {
        step("write " + id + " [" + from + ", " + to + ") and sync", image, d -> {
          writeRange(d.writer(), image, from, to);
          d.writer().sync("\"etag-" + image.length + "\"");
        });
      } else {
        step("write " + id + " [" + from + ", " + to + ") and commit", image, d -> {
          writeRange(d.writer(), image, from, to);
          d.writer().commit(new ImageMetadata(image.length, Sha256.digest(image), URI.create("https://fw.example/i"),
              "v" + image.length));
        });
      }
      if (from == 0 && to < image.length) {
        meanwhile.run();
      }
      if (to == interruptAfter) {
        step("release " + id + " unfinished", image, d -> d.writer().release());
        step("reopen writer for " + id + ", resuming at " + to, image, d -> {
          d.writer = d.store().openWriter(spec(image)).block();
          assertThat(d.writer().resumePoint().offset()).isEqualTo(to);
          byte[] prefix = new byte[to];
          assertThat(d.writer().read(ByteBuffer.wrap(prefix), 0)).isEqualTo(to);
          assertThat(prefix).isEqualTo(Arrays.copyOf(image, to));
        });
      }
      at = to;
    }
    step("release " + id, image, d -> {
      d.writer().release();
      d.writer = null;
    });
  }

  private void cycle() {
    step("init", null, d -> FileSlotStore.create(d.medium, DIR, CAPACITY, FileSlotStore.Existing.REFUSE));
    update(IMAGE_1, 12 * 1024, -1);
    step("activate b", IMAGE_1, d -> d.store().activate(SlotId.B, Sha256.digest(IMAGE_1)).block());
    step("boot b (trial 1)", null, d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.B));
    step("boot b (trial 2)", null, d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.B));
    step("an update during the trial is refused, changing nothing", null, d -> {
      StoreStatus before = d.store().status().block();
      assertThatThrownBy(() -> d.store().openWriter(spec(image(12 * 1024, 5))).block())
          .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.TRIAL_RUNNING));
      assertThat(d.store().status().block()).isEqualTo(before);
    });
    // a health check confirms b (a real device does this before the next update)
    markGoodStep = steps.size();
    step("mark-good b", null, d -> d.store().markGood().block());
    byte[] abandoned = image(12 * 1024, 4);
    step("open writer for an image that will be aborted", abandoned,
        d -> d.writer = d.store().openWriter(spec(abandoned)).block());
    step("write [0, 8192) of it and sync", abandoned, d -> {
      writeRange(d.writer(), abandoned, 0, 8192);
      d.writer().sync(null);
    });
    step("abort it", abandoned, d -> {
      d.writer().abort();
      d.writer = null;
    });
    // the device boots and confirms again while an agent downloads into slot a
    update(IMAGE_2, 8 * 1024, 16 * 1024, () -> {
      step("mark-good b during the update (confirmed already)", IMAGE_2, d -> d.store().markGood().block());
      step("boot b (good) during the update", IMAGE_2,
          d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.B));
    });
    step("activate a", IMAGE_2, d -> d.store().activate(SlotId.A, Sha256.digest(IMAGE_2)).block());
    for (int i = 1; i <= 3; i++) {
      step("boot a (trial " + i + ")", null, d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.A));
    }
    step("boot: a unconfirmed 3 times, back to b", null,
        d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.B));
    update(IMAGE_3, 8 * 1024, -1);
    step("activate a", IMAGE_3, d -> d.store().activate(SlotId.A, Sha256.digest(IMAGE_3)).block());
    step("boot a (trial 1)", null, d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.A));
    step("rollback to b", null, d -> assertThat(d.store().rollback().block()).isEqualTo(SlotId.B));
    step("boot b", null, d -> assertThat(d.store().boot().block()).isEqualTo(SlotId.B));
  }

  @Test
  void aPowerCutAtAnyWriteOrSyncLeavesTheOldOrTheNewStateAndABootableVerifiedSlot() throws IOException {
    cycle();
    // the reference run: no cut; the state after each step, and the operations it took
    Device reference = new Device(CrashMedium.reliable());
    List<StoreStatus> after = new ArrayList<>();
    long total = 0;
    for (Step s : steps) {
      long before = reference.medium.operations();
      s.action.run(reference);
      total += reference.medium.operations() - before;
      // reading the status opens the store, which syncs its directory: an operation the cut runs do not make
      after.add(reference.store().status().block());
    }
    assertThat(after.get(after.size() - 1).next()).isEqualTo(SlotId.B);

    int reboots = 0;
    for (long cutAt = 1; cutAt <= total; cutAt++) {
      for (CrashMedium.Survival survival : CrashMedium.Survival.values()) {
        Device device = new Device(CrashMedium.cuttingAt(cutAt));
        int cutStep = runUntilTheCut(device);
        CrashMedium rebooted = device.medium.reboot(survival, cutAt * 7 + survival.ordinal());
        String where = "cut at operation " + cutAt + " of " + total + " during \"" + steps.get(cutStep) + "\", "
            + survival;
        checkAfterReboot(rebooted, cutStep, after, where);
        reboots++;
      }
    }
    log.info("Power-cut test: {} cut points (every write, sync, create, truncate, rename and directory sync of {}"
        + " steps) x {} survival modes = {} reboots checked", total, steps.size(), CrashMedium.Survival.values().length,
        reboots);
    assertThat(total).as("cut points").isGreaterThan(50);
  }

  private int runUntilTheCut(Device device) {
    for (int i = 0; i < steps.size(); i++) {
      try {
        steps.get(i).action.run(device);
      } catch (Throwable e) {
        if (device.medium.isCut()) {
          return i;
        }
        throw new AssertionError("step \"" + steps.get(i) + "\" failed without a power cut", e);
      }
    }
    throw new AssertionError("the cycle finished without reaching the cut");
  }

  private void checkAfterReboot(CrashMedium medium, int cutStep, List<StoreStatus> after, String where)
      throws IOException {
    FileSlotStore store;
    try {
      store = FileSlotStore.open(medium, Layout.inDirectory(DIR)).scheduler(Schedulers.immediate());
    } catch (OtaException e) {
      if (cutStep == 0 && e.getMessage().contains("There is no slot store")) {
        // cut while creating the store: it does not exist yet, and can be created again
        StoreStatus fresh = FileSlotStore.create(medium, DIR, CAPACITY, FileSlotStore.Existing.OPEN).scheduler(Schedulers.immediate())
            .status().block();
        assertThat(fresh).as(where).isEqualTo(after.get(0));
        return;
      }
      throw new AssertionError(where + ": the store does not open", e);
    }
    StoreStatus status = store.status().block();
    assertThat(status).as(where).isNotNull();
    if (cutStep == 0) {
      assertThat(status).as(where + ": the old or the new state").isEqualTo(after.get(0));
    } else {
      assertThat(status).as(where + ": the old or the new state").isIn(after.get(cutStep - 1), after.get(cutStep));
    }
    assertThat(status.slot(status.next()).state().isBootable()).as(where + ": the boot choice boots").isTrue();
    for (SlotId id : SlotId.values()) {
      SlotStatus slot = status.slot(id);
      if (slot.state().isBootable() && slot.sha256() != null) {
        assertThat(digestOf(medium, id, slot.size())).as(where + ": slot " + id.label() + " holds its verified image")
            .isEqualTo(slot.sha256());
      }
    }
    if (cutStep > markGoodStep) {
      assertThat(status.slot(SlotId.B).state()).as(where + ": the confirmed slot b stays good")
          .isEqualTo(SlotState.GOOD);
    }
    byte[] image = steps.get(cutStep).image;
    for (SlotId id : SlotId.values()) {
      SlotStatus slot = status.slot(id);
      if (slot.state() == SlotState.WRITING && slot.sha256() == null && slot.size() > 0) {
        assertThat(image).as(where + ": an image being written").isNotNull();
        byte[] onMedium = slotBytes(medium, id);
        assertThat(onMedium.length).as(where + ": the journal points at bytes on the medium")
            .isGreaterThanOrEqualTo((int) slot.size());
        assertThat(Arrays.copyOf(onMedium, (int) slot.size())).as(where + ": the durable prefix is the image's")
            .isEqualTo(Arrays.copyOf(image, (int) slot.size()));
        SlotWriter resumed = store.openWriter(spec(image)).block();
        assertThat(resumed.resumePoint().offset()).as(where + ": resumes at the durable offset").isEqualTo(slot.size());
        resumed.release();
      }
    }
    SlotId booted = store.boot().block();
    StoreStatus afterBoot = store.status().block();
    SlotStatus bootedSlot = afterBoot.slot(booted);
    assertThat(bootedSlot.state().isBootable()).as(where + ": the slot booted after the cut").isTrue();
    if (bootedSlot.sha256() != null) {
      assertThat(digestOf(medium, booted, bootedSlot.size())).as(where + ": the booted slot is verified")
          .isEqualTo(bootedSlot.sha256());
    }
  }

  private static byte[] slotBytes(CrashMedium medium, SlotId id) {
    byte[] bytes = medium.contents(Layout.inDirectory(DIR).slot(id));
    if (bytes == null) {
      fail("slot file " + id.label() + " is missing");
    }
    return bytes;
  }

  private static Sha256 digestOf(CrashMedium medium, SlotId id, long size) {
    byte[] bytes = slotBytes(medium, id);
    if (bytes.length < size) {
      return Sha256.digest(bytes); // short: cannot match
    }
    return Sha256.digest(Arrays.copyOf(bytes, (int) size));
  }

  private static void writeRange(SlotWriter w, byte[] image, int from, int to) throws IOException {
    assertThat(w.position()).isEqualTo(from);
    for (int at = from; at < to; at += CHUNK) {
      w.write(ByteBuffer.wrap(image, at, Math.min(CHUNK, to - at)));
    }
  }

  private static ImageSpec spec(byte[] image) {
    return new ImageSpec(URI.create("https://fw.example/" + image.length + ".bin"), image.length,
        Sha256.digest(image), "v" + image.length);
  }

  private static byte[] image(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
