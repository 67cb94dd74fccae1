package io.otaflux.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.internal.Redaction;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotReader;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An A/B {@link SlotStore} on two files ({@code DIR/slot-a.img}, {@code DIR/slot-b.img}) or two
 * block devices, with a boot state that survives a power cut at any instant and a resume journal.
 *
 * <pre>{@code
 * SlotStore store = FileSlotStore.openOrInit(Path.of("/var/lib/ota"));  // 1 GiB slots when new
 * OtaUpdater.create().source(source).store(store).install(request).block();
 * SlotId slot = store.boot().block();                                   // in the boot script
 * }</pre>
 *
 * <p>The store keeps nothing in memory between calls: every change reads the boot state from the
 * medium and writes the next one under a lock, so several processes (an updater, a boot script,
 * {@code ota status}) can share one store. One update at a time: a write session holds the store's
 * update lock, and a second update or an activation meanwhile fails at once as "busy". A boot, a
 * mark-good or a rollback may run during an update (they never touch the slot being written); they
 * wait for the short state lock instead. Instances are immutable and thread-safe.
 *
 * <p><b>Durability:</b> a slot's bytes are synced before the state that lets it boot is written;
 * each state change is synced before its {@link Mono} completes. See the package documentation for
 * the state format.
 *
 * <p><b>Threading:</b> the I/O blocks, and runs on the store's scheduler (by default
 * {@link Schedulers#boundedElastic()}), never on the subscriber's thread.
 *
 * <p><b>Errors:</b> {@link OtaException} with reason {@code STORAGE} and a sentence saying what to
 * do: store busy with another update ("busy"), image larger than the slot, a missing or read-only
 * slot file, a full disk, a damaged or unknown boot state; {@code USAGE} for an operation the state
 * does not allow; {@code POLICY} for an update the {@link BootRules} refuse (a trial running, a
 * reboot pending). After any failure the running slot and the boot choice are as they were.
 *
 * <p><b>Boot rules:</b> the store keeps persistence and I/O only; every change of the boot state
 * is a {@link BootRules} transition.
 */
public final class FileSlotStore implements SlotStore {

  /** The slot size {@code ota init} and {@link #openOrInit(Path)} use: 1 GiB. */
  public static final long DEFAULT_SLOT_SIZE = 1L << 30;

  private static final Logger log = LoggerFactory.getLogger(FileSlotStore.class);

  private final Medium medium;
  private final Layout layout;
  private final BootStateFile stateFile;
  private final long capacity;
  private final Scheduler scheduler;

  private FileSlotStore(Medium medium, Layout layout, long capacity, Scheduler scheduler) {
    this.medium = medium;
    this.layout = layout;
    this.stateFile = new BootStateFile(medium, layout.stateFile());
    this.capacity = capacity;
    this.scheduler = scheduler;
  }

  /**
   * Creates a store in {@code dir} (made if missing): empty slot files {@code slot-a.img} and
   * {@code slot-b.img}, which grow as images are written but never past {@code slotSize}, and the
   * boot state, with slot {@code a} good (the factory image) and slot {@code b} empty.
   *
   * @param dir the store's directory
   * @param slotSize the capacity of each slot in bytes
   * @return the store
   * @throws OtaException {@link Detail#STORE_EXISTS} when {@code dir} already holds a store, valid
   *     or damaged (nothing is changed: see {@link #recreate}); {@code USAGE} when the size is not
   *     positive; {@code STORAGE} when the files cannot be made or the store is busy
   */
  public static FileSlotStore init(Path dir, long slotSize) {
    Objects.requireNonNull(dir, "dir");
    return create(FileMedium.INSTANCE, dir, slotSize, Existing.REFUSE);
  }

  /**
   * Creates a store in {@code dir} as {@link #init} does, destroying the store that is there, valid
   * or damaged: both slots' images (the confirmed one included) and the boot state. Slot {@code a}
   * becomes the good slot again. What {@code ota init --force} does.
   *
   * @param dir the store's directory
   * @param slotSize the capacity of each slot in bytes
   * @return the new store
   * @throws OtaException {@code USAGE} when the size is not positive; {@code STORAGE} when the files
   *     cannot be made or the store is busy with an update
   */
  public static FileSlotStore recreate(Path dir, long slotSize) {
    Objects.requireNonNull(dir, "dir");
    return create(FileMedium.INSTANCE, dir, slotSize, Existing.DESTROY);
  }

  /**
   * Opens the store in {@code dir}.
   *
   * @param dir the store's directory
   * @return the store
   * @throws OtaException {@code STORAGE} when there is no store, or its boot state is damaged in
   *     both copies or in a format this version does not read
   */
  public static FileSlotStore open(Path dir) {
    Objects.requireNonNull(dir, "dir");
    return open(FileMedium.INSTANCE, Layout.inDirectory(dir));
  }

  /**
   * Opens the store in {@code dir}, or creates one with {@link #DEFAULT_SLOT_SIZE} slots when
   * there is none (what {@code ota update} does). A damaged store is never replaced: that fails
   * with {@link Detail#STORE_DAMAGED} and changes nothing.
   *
   * @param dir the store's directory
   * @return the store
   */
  public static FileSlotStore openOrInit(Path dir) {
    return openOrInit(dir, DEFAULT_SLOT_SIZE);
  }

  /**
   * Opens the store in {@code dir}, or creates one with slots of {@code slotSize} bytes when there
   * is none. A damaged store is never replaced: that fails with {@link Detail#STORE_DAMAGED} and
   * changes nothing.
   *
   * @param dir the store's directory
   * @param slotSize the capacity of each slot when a store is created
   * @return the store
   */
  public static FileSlotStore openOrInit(Path dir, long slotSize) {
    Objects.requireNonNull(dir, "dir");
    return create(FileMedium.INSTANCE, dir, slotSize, Existing.OPEN);
  }

  /**
   * A store over two existing block devices (or any two files), with its boot state and lock in
   * {@code stateDir}. The boot state is created there on first use (slot {@code a} good, slot
   * {@code b} empty); the devices are never truncated, and writes never go past {@code capacity}.
   *
   * @param slotA slot a, e.g. {@code /dev/mmcblk0p2}
   * @param slotB slot b, e.g. {@code /dev/mmcblk0p3}
   * @param stateDir where the boot state and the lock file live (made if missing)
   * @param capacity the most bytes a slot holds; at most the devices' size
   * @return the store
   * @throws OtaException {@code STORAGE} when a device is missing or smaller than {@code capacity},
   *     or the existing boot state was made with another capacity or is damaged
   */
  public static FileSlotStore onDevices(Path slotA, Path slotB, Path stateDir, long capacity) {
    Objects.requireNonNull(slotA, "slotA");
    Objects.requireNonNull(slotB, "slotB");
    Objects.requireNonNull(stateDir, "stateDir");
    requirePositive(capacity);
    Layout layout = Layout.onDevices(slotA, slotB, stateDir);
    for (SlotId id : SlotId.values()) {
      Path device = layout.slot(id);
      try (Medium.Handle h = FileMedium.INSTANCE.open(device, Medium.Mode.READ)) {
        long size = h.size();
        if (!Files.isRegularFile(device) && size > 0 && size < capacity) {
          throw OtaException.of(Reason.STORAGE, "Slot " + id.label() + " (" + device + ") holds " + size
              + " bytes, less than the slot size " + capacity + "; give a smaller slot size or a larger partition.");
        }
      } catch (IOException e) {
        throw StoreErrors.io("Opening slot " + id.label(), device, e);
      }
    }
    try {
      FileMedium.INSTANCE.createDirectories(layout.stateDir());
    } catch (IOException e) {
      throw StoreErrors.io("Creating the state directory", layout.stateDir(), e);
    }
    FileSlotStore store = StoreLocks.underBothLocks(FileMedium.INSTANCE, layout, () -> {
      BootStateFile file = new BootStateFile(FileMedium.INSTANCE, layout.stateFile());
      if (!file.exists()) {
        BootStateFile.create(FileMedium.INSTANCE, layout.stateFile(), BootState.initial(capacity));
      }
      return new FileSlotStore(FileMedium.INSTANCE, layout, file.load().state().capacity(), Schedulers.boundedElastic());
    });
    if (store.capacity != capacity) {
      throw OtaException.of(Reason.STORAGE, "The boot state in " + stateDir + " was made for slots of "
          + store.capacity + " bytes, not " + capacity + "; give the same size, or remove the state to start over.");
    }
    return store;
  }

  /**
   * This store, running its blocking I/O on {@code scheduler}.
   *
   * @param scheduler where the file I/O runs
   * @return a store on the same files
   */
  public FileSlotStore scheduler(Scheduler scheduler) {
    Objects.requireNonNull(scheduler, "scheduler");
    return new FileSlotStore(medium, layout, capacity, scheduler);
  }

  /**
   * The capacity of each slot.
   *
   * @return the slot size in bytes
   */
  public long capacity() {
    return capacity;
  }

  /**
   * The file or device of a slot.
   *
   * @param slot the slot
   * @return its path
   */
  public Path slotPath(SlotId slot) {
    return layout.slot(Objects.requireNonNull(slot, "slot"));
  }

  /** What {@link #create} does with a store it finds. */
  enum Existing {
    /** Use it; a damaged one fails. */
    OPEN,
    /** Refuse, changing nothing. */
    REFUSE,
    /** Destroy it and create a fresh one. */
    DESTROY
  }

  static FileSlotStore create(Medium medium, Path dir, long slotSize, Existing existing) {
    requirePositive(slotSize);
    Layout layout = Layout.inDirectory(dir);
    try {
      medium.createDirectories(dir);
    } catch (IOException e) {
      throw StoreErrors.io("Creating the slot store", dir, e);
    }
    return StoreLocks.underBothLocks(medium, layout, () -> {
      BootStateFile file = new BootStateFile(medium, layout.stateFile());
      boolean stateFound = file.exists();
      // empty slot files without a boot state are what an init cut short leaves: nothing to lose there
      boolean slotsFound = holdsBytes(medium, layout.slotA()) || holdsBytes(medium, layout.slotB());
      if (existing != Existing.DESTROY && (stateFound || slotsFound)) {
        BootStateFile.Loaded loaded = null;
        OtaException damaged = null;
        if (stateFound) {
          try {
            loaded = file.load();
          } catch (OtaException e) {
            damaged = e;
          }
        }
        if (loaded != null) {
          // an init that failed at its directory sync (EIO) left entries that a power cut may still take away:
          // the init run again makes them durable before it opens, or refuses, the store it finds
          makeEntriesDurable(medium, dir);
        }
        if (existing == Existing.OPEN) {
          if (loaded != null) {
            return new FileSlotStore(medium, layout, loaded.state().capacity(), Schedulers.boundedElastic());
          }
          if (damaged != null) {
            throw damaged;
          }
          throw OtaException.of(Detail.STORE_DAMAGED, dir + " holds slot files but no boot state ("
              + layout.stateFile().getFileName() + "); the store will not guess which slot holds what, and changes"
              + " nothing. Restore the boot state from a backup; only if the images do not matter, `ota init --force`"
              + " re-creates the store, destroying both slot files.");
        }
        throw OtaException.of(Detail.STORE_EXISTS, dir + " already holds a slot store ("
            + (loaded != null ? "slots of " + loaded.state().capacity() + " bytes" : "damaged") + "); nothing was"
            + " changed. Use it as it is; `ota init --force` would destroy it: both slot files with their images,"
            + " the boot state and the confirmed image.");
      }
      if (existing == Existing.DESTROY && (stateFound || slotsFound)) {
        log.warn("Destroying the slot store in {} (both slots and the boot state) to create a new one", dir);
      }
      for (SlotId id : SlotId.values()) {
        try (Medium.Handle h = medium.open(layout.slot(id), Medium.Mode.CREATE_EMPTY)) {
          h.force();
        }
      }
      BootStateFile.create(medium, layout.stateFile(), BootState.initial(slotSize));
      return new FileSlotStore(medium, layout, slotSize, Schedulers.boundedElastic());
    });
  }

  private static boolean holdsBytes(Medium medium, Path slot) throws IOException {
    if (!medium.exists(slot)) {
      return false;
    }
    try (Medium.Handle h = medium.open(slot, Medium.Mode.READ)) {
      return h.size() > 0;
    }
  }

  static FileSlotStore open(Medium medium, Layout layout) {
    BootStateFile file = new BootStateFile(medium, layout.stateFile());
    long capacity = file.load().state().capacity();
    // an init whose directory sync failed left entries a power cut may still take away; a plain open (ota
    // update, status) cannot tell, so it makes them durable: on a directory with nothing to flush, this is cheap
    makeEntriesDurable(medium, layout.stateDir());
    return new FileSlotStore(medium, layout, capacity, Schedulers.boundedElastic());
  }

  /** Syncs {@code dir}, so that the store's files found there survive a power cut. */
  static void makeEntriesDurable(Medium medium, Path dir) {
    try {
      medium.syncDirectory(dir);
    } catch (IOException e) {
      throw StoreErrors.io("Making the slot store's files durable", dir, e);
    }
  }

  @Override
  public Mono<SlotWriter> openWriter(ImageSpec image) {
    Objects.requireNonNull(image, "image");
    return io(() -> {
      // the boot rules refuse before the lock is taken or a slot touched; checked again under the lock
      BootRules.writableSlot(stateFile.load().state().status());
      Medium.Lock lock = StoreLocks.update(medium, layout);
      try {
        return StoreLocks.underStateLock(medium, layout,
            () -> startWriting(medium, layout, stateFile, image, lock, BootState::status));
      } catch (RuntimeException e) {
        lock.release();
        throw e;
      }
    });
  }

  /**
   * Under both locks: checks the image and the slot, records the write, and opens the writer.
   * Shared by the stores on this state file: {@code rules} gives the state the {@link BootRules}
   * work on (the file's own, or one completed from what a bootloader reads back).
   */
  static SlotWriter startWriting(Medium medium, Layout layout, BootStateFile stateFile, ImageSpec requested,
      Medium.Lock lock, java.util.function.Function<BootState, StoreStatus> rules) {
    // the journal is on disk: never a password from the URL in it
    ImageSpec image = new ImageSpec(Redaction.withoutUserInfo(requested.uri()), requested.size(), requested.sha256(),
        requested.version());
    BootStateFile.Loaded loaded = stateFile.load();
    BootState state = loaded.state();
    StoreStatus now = rules.apply(state);
    SlotId target = BootRules.writableSlot(now);
    if (image.size() > state.capacity()) {
      throw StoreErrors.tooLarge(image.size(), target, state.capacity());
    }
    Path path = layout.slot(target);
    Medium.Handle slotFile;
    try {
      slotFile = medium.open(path, Medium.Mode.WRITE);
    } catch (IOException e) {
      throw StoreErrors.io("Opening slot " + target.label() + " for writing", path, e);
    }
    try {
      SlotRecord current = state.slot(target);
      SlotRecord.Journal journal = current.journal();
      long onMedium = size(slotFile, path);
      boolean resumes = current.state() == SlotState.WRITING && journal != null && !current.isSealed()
          && current.size() > 0 && current.size() <= onMedium && image.isSameImageAs(journal.image());
      long durable = resumes ? current.size() : 0;
      String validator = resumes ? journal.validator() : null;
      // what a device slot may still hold past the new image: the old image, or (when unknown) anything
      long stale = current.isSealed() ? current.size() : state.capacity();
      BootState writing = state.follow(BootRules.beginWriting(now, durable))
          .withRecord(target, null, new SlotRecord.Journal(image, validator));
      try {
        stateFile.store(writing, loaded);
      } catch (IOException e) {
        throw StoreErrors.io("Recording the start of the write in the boot state", layout.stateFile(), e);
      }
      if (resumes) {
        log.debug("Slot {} resumes at byte {} of an interrupted write", target.label(), durable);
      }
      ResumeFrom from = resumes ? new ResumeFrom(durable, validator) : ResumeFrom.start();
      return new FileSlotWriter(target, path, state.capacity(), slotFile, lock, medium, layout, from, stale);
    } catch (RuntimeException e) {
      closeQuietly(slotFile);
      throw e;
    }
  }

  @Override
  public Mono<Void> activate(SlotId slot, Sha256 sha256) {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(sha256, "sha256");
    return change(true, state -> {
      BootState next = state.follow(BootRules.activate(state.status(), slot, sha256));
      Path path = layout.slot(slot);
      // the bytes were synced at commit; still refuse to activate a slot file that is gone or cut short
      try (Medium.Handle h = medium.open(path, Medium.Mode.READ)) {
        long recorded = state.slot(slot).size();
        if (h.size() < recorded) {
          throw OtaException.of(Reason.STORAGE, "Slot " + slot.label() + " (" + path + ") holds " + h.size()
              + " bytes but its image has " + recorded + "; it was changed since it was verified. Download the"
              + " image again. " + StoreErrors.UNCHANGED);
        }
      } catch (IOException e) {
        throw StoreErrors.io("Activating slot " + slot.label(), path, e);
      }
      return next;
    }).then();
  }

  @Override
  public Mono<SlotId> boot() {
    return change(false, state -> state.follow(BootRules.boot(state.status()))).map(BootState::active);
  }

  @Override
  public Mono<Void> markGood() {
    return change(false, state -> state.follow(BootRules.markGood(state.status()))).then();
  }

  @Override
  public Mono<SlotId> rollback() {
    return change(false, state -> state.follow(BootRules.rollback(state.status()))).map(BootState::next);
  }

  /**
   * Reads the running slot's committed image (its size and digest from the boot state), so a
   * delta update reuses its chunks. The file is opened read-only; the store is not locked (the
   * running slot is never written by an update).
   *
   * @return the reader
   */
  @Override
  public Mono<SlotReader> openRunning() {
    return io(() -> {
      StoreStatus status = stateFile.load().state().status();
      SlotId running = status.active();
      SlotStatus slot = status.slots().get(running);
      return RunningSlotReader.open(medium, layout.slot(running), running, slot.size(), slot.sha256());
    });
  }

  @Override
  public Mono<StoreStatus> status() {
    return io(() -> stateFile.load().state().status());
  }

  @Override
  public String toString() {
    return "FileSlotStore[" + layout.slotA() + ", " + layout.slotB() + ", state " + layout.stateFile() + "]";
  }

  /**
   * Reads the state, applies the transition and writes the result when it differs, under the state
   * lock; with {@code exclusive}, under the update lock too (failing at once when an update runs).
   */
  private Mono<BootState> change(boolean exclusive, UnaryOperator<BootState> transition) {
    StoreLocks.Work<BootState> work = () -> {
      BootStateFile.Loaded loaded = stateFile.load();
      BootState next = transition.apply(loaded.state());
      if (!next.equals(loaded.state())) {
        try {
          stateFile.store(next, loaded);
        } catch (IOException e) {
          throw StoreErrors.io("Writing the boot state", layout.stateFile(), e);
        }
      }
      return next;
    };
    return io(() -> exclusive ? StoreLocks.underBothLocks(medium, layout, work)
        : StoreLocks.underStateLock(medium, layout, work));
  }

  /** {@inheritDoc} Kept in {@code slot-X.chunks} next to the boot state, replaced atomically and synced. */
  @Override
  public Mono<byte[]> loadChunkIndex(SlotId slot) {
    return AtomicFiles.loadChunkIndex(medium, layout.stateDir(), slot, scheduler);
  }

  @Override
  public Mono<Void> saveChunkIndex(SlotId slot, byte[] bytes) {
    return AtomicFiles.saveChunkIndex(medium, layout.stateDir(), slot, bytes, scheduler);
  }

  private <T> Mono<T> io(Callable<T> work) {
    return Mono.fromCallable(work).subscribeOn(scheduler);
  }

  private static long size(Medium.Handle handle, Path path) {
    try {
      return handle.size();
    } catch (IOException e) {
      throw StoreErrors.io("Reading the size of", path, e);
    }
  }

  private static void requirePositive(long slotSize) {
    if (slotSize <= 0) {
      throw OtaException.of(Reason.USAGE, "A slot holds at least one byte; " + slotSize + " is not a slot size.");
    }
  }

  static void closeQuietly(Medium.@Nullable Handle handle) {
    if (handle == null) {
      return;
    }
    try {
      handle.close();
    } catch (IOException e) {
      log.debug("Closing a slot file failed", e);
    }
  }
}
