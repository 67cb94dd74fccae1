package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageSpec;
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
 * An A/B {@link SlotStore} whose boot choice belongs to the bootloader: U-Boot (RAUC's
 * {@code BOOT_ORDER}, {@code BOOT_A_LEFT}, {@code BOOT_B_LEFT} in the environment a
 * {@code fw_env.config} locates) or GRUB (RAUC's {@code ORDER}, {@code A_OK}/{@code B_OK},
 * {@code A_TRY}/{@code B_TRY} in a {@code grubenv}). RAUC's boot scripts work unchanged: the
 * bootloader counts the attempts and falls back by itself. The slots are two partitions or files;
 * the images' metadata (digests, sizes, versions, {@code trial}/{@code good}, the resume journal)
 * stays in the power-safe boot state file of a data directory, as for {@link FileSlotStore}. The
 * running slot is the one the kernel command line names ({@code rauc.slot=A|B} or
 * {@code otaflux.slot=a|b}).
 *
 * <pre>{@code
 * BootloaderSlotStore.init(Path.of("/data/ota"), BootloaderSlotStore.Setup.uboot(
 *     Path.of("/etc/fw_env.config"), Path.of("/dev/mmcblk0p2"), Path.of("/dev/mmcblk0p3")));
 * SlotStore store = BootloaderSlotStore.open(Path.of("/data/ota"));   // later, in any process
 * }</pre>
 *
 * <p><b>The state the rules see:</b> every call builds the {@link BootRules} state from what it
 * reads back, as {@link BootRules} says for stores whose bootloader counts: the running slot from
 * the command line; each slot's image and {@code good}/{@code trial}/{@code writing} from the state
 * file; a trial's attempts as {@value BootRules#MAX_TRIAL_BOOTS} minus the attempts the
 * bootloader has left (GRUB gives one try: none left counts as all used); a trial that is not
 * running and has no attempts left is {@code invalid} (the bootloader fell back, or its
 * activation never reached the environment); the next boot is the first slot of the order with
 * attempts left, or the running trial itself while it is first (its attempts used up: the rules
 * then predict the fallback). The store applies the rules and writes the result back: the
 * metadata to the state file and the boot choice as the bootloader's variables. It never counts
 * a boot: {@link #boot()} fails with {@link Detail#NOT_ALLOWED_NOW}.
 *
 * <p><b>Order of writes</b>, so that a power cut at any instant leaves a state that boots a good
 * image and that {@link #status()} tells truthfully:
 * <ul>
 *   <li>An update first takes the slot it will write out of the bootloader's choice (attempts 0,
 *       out of the order: RAUC's "mark bad", only when it could boot; when it is out already but
 *       the U-Boot copy not in force is invalid, which may hide a failed activation a power cut could
 *       still complete, the environment is written over it), then records the write in the state
 *       file, then writes bytes: a fallback never boots a half-written slot.</li>
 *   <li>{@link #activate}: the state file first (the slot sealed and {@code trial}), then the
 *       environment. Cut in between, the environment still boots the running good slot, and the
 *       status shows the trial as {@code invalid} (it has no attempts): the old boot choice, told
 *       as it is; updating again writes it anew.</li>
 *   <li>{@link #markGood}: the environment first (fresh attempts for the running slot), then the
 *       state file ({@code good}). Cut in between, the slot is still a trial with fresh attempts:
 *       it boots, and falls back to the good slot unless confirmed again. The other order could
 *       record {@code good} while the bootloader is about to fall back.</li>
 *   <li>{@link #rollback}: the environment first (the other slot first, the given-up one out of
 *       the order), then the state file ({@code invalid}). Cut in between, the bootloader boots the
 *       good slot next and the trial shows with no attempts left. The other order could record
 *       {@code invalid} while the bootloader still boots the slot.</li>
 * </ul>
 * Each environment write is itself atomic with a redundant U-Boot environment and with GRUB (see
 * {@link UbootEnvironment}, {@link GrubEnvironment}); with one U-Boot copy it is not, and
 * {@link #bootloaderStatus()} says so.
 *
 * <p><b>Confirming every boot:</b> RAUC's U-Boot script counts down the good slot on every boot
 * too (GRUB's marks it tried), and when no slot has attempts left it gives both slots 3 again.
 * So the device runs {@link #markGood} (for example {@code ota mark-good}) after every healthy
 * boot, as RAUC's {@code rauc-mark-good.service} does: on a good slot it gives the running slot
 * fresh attempts, and after a fallback it takes the failed slot out of the order.
 *
 * <p><b>The bootloader's last resort</b> (no slot has attempts left: U-Boot's script gives both 3
 * again and boots the first of {@code BOOT_ORDER}, GRUB's boots its default entry) stays on the good
 * slot even when no boot is confirmed: every {@link #open} takes a non-good slot the bootloader fell
 * back from out of its reach (out of {@code BOOT_ORDER}; GRUB {@code _OK=0}), and with GRUB the store
 * keeps grubenv's {@code default} (menu entry 0 is slot A, 1 is slot B; RAUC's {@code grub.cfg} sets
 * {@code default=0} before {@code load_env}, so the environment's value wins) on the good boot choice,
 * in the same write as the change it goes with: never on a trial, never on a slot being written.
 *
 * <p><b>Errors</b> ({@link OtaException}), each before anything is written: a missing or damaged
 * environment ({@link Detail#STORE_DAMAGED}, {@link Detail#IO_ERROR}), an environment too small for
 * the variables ({@link Detail#NO_SPACE}), a slot smaller than the image
 * ({@link Detail#SLOT_TOO_SMALL}), a command line naming no slot and a slot to write that is
 * mounted as the root file system ({@link Detail#INVALID_REQUEST}); and the {@link BootRules}
 * refusals. Instances are immutable and thread-safe; the I/O runs on the store's scheduler.
 */
public final class BootloaderSlotStore implements SlotStore {

  static final String CONFIG = "bootloader.conf";
  static final Path PROC_MOUNTINFO = Path.of("/proc/self/mountinfo");
  private static final Path FW_LOCK_DIR = Path.of("/var/lock");

  private static final Logger log = LoggerFactory.getLogger(BootloaderSlotStore.class);

  /** The bootloader whose environment holds the boot choice. */
  public enum Kind {
    /** U-Boot, with the environment a {@code fw_env.config} locates. */
    UBOOT,
    /** GRUB, with a {@code grubenv} file. */
    GRUB;

    /**
     * The name {@code ota init --bootloader} takes.
     *
     * @return {@code uboot} or {@code grub}
     */
    public String label() {
      return this == UBOOT ? "uboot" : "grub";
    }
  }

  /**
   * Where a bootloader store's parts are. Immutable; the {@code with} methods return copies.
   *
   * @param kind the bootloader
   * @param environment U-Boot: the {@code fw_env.config}; GRUB: the {@code grubenv} file
   * @param slotA slot a (RAUC's boot name A): a partition or a file
   * @param slotB slot b (RAUC's boot name B)
   * @param cmdline the kernel command line naming the running slot ({@code /proc/cmdline})
   * @param capacity the bytes a slot holds; 0 for the size of the smaller slot
   */
  public record Setup(Kind kind, Path environment, Path slotA, Path slotB, Path cmdline, long capacity) {

    /**
     * Checks the parts are given.
     *
     * @param kind the bootloader
     * @param environment the environment's configuration or file
     * @param slotA slot a
     * @param slotB slot b
     * @param cmdline the kernel command line's file
     * @param capacity the slot size, or 0
     */
    public Setup {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(environment, "environment");
      Objects.requireNonNull(slotA, "slotA");
      Objects.requireNonNull(slotB, "slotB");
      Objects.requireNonNull(cmdline, "cmdline");
      if (capacity < 0) {
        throw OtaException.of(Detail.INVALID_REQUEST, "A slot size is positive (or 0 for the slots' own size), not "
            + capacity + ".");
      }
    }

    /**
     * U-Boot, its environment where {@code fwEnvConfig} says, the command line in {@code /proc/cmdline}.
     *
     * @param fwEnvConfig libubootenv's configuration: one line per copy, {@code DEVICE OFFSET SIZE [SECTOR]}
     * @param slotA slot a
     * @param slotB slot b
     * @return the setup
     */
    public static Setup uboot(Path fwEnvConfig, Path slotA, Path slotB) {
      return new Setup(Kind.UBOOT, fwEnvConfig, slotA, slotB, KernelCommandLine.PROC_CMDLINE, 0);
    }

    /**
     * GRUB, with the environment block {@code grubenv}, the command line in {@code /proc/cmdline}.
     *
     * @param grubenv the {@code grubenv} file (often {@code /boot/grub/grubenv})
     * @param slotA slot a
     * @param slotB slot b
     * @return the setup
     */
    public static Setup grub(Path grubenv, Path slotA, Path slotB) {
      return new Setup(Kind.GRUB, grubenv, slotA, slotB, KernelCommandLine.PROC_CMDLINE, 0);
    }

    /**
     * This setup reading the kernel command line from another file (tests, containers).
     *
     * @param file the file
     * @return a copy
     */
    public Setup withCmdline(Path file) {
      return new Setup(kind, environment, slotA, slotB, file, capacity);
    }

    /**
     * This setup with slots of {@code bytes} (file slots grow up to it; a partition must hold it).
     *
     * @param bytes the slot size
     * @return a copy
     */
    public Setup withCapacity(long bytes) {
      return new Setup(kind, environment, slotA, slotB, cmdline, bytes);
    }

    Path slot(SlotId id) {
      return id == SlotId.A ? slotA : slotB;
    }

    String encode() {
      return "kind=" + kind.label() + "\nenvironment=" + environment.toAbsolutePath() + "\nslot-a="
          + slotA.toAbsolutePath() + "\nslot-b=" + slotB.toAbsolutePath() + "\ncmdline=" + cmdline.toAbsolutePath()
          + "\ncapacity=" + capacity + "\n";
    }

    static Setup decode(String text, Path file) {
      Map<String, String> v = new LinkedHashMap<>();
      for (String line : text.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          v.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      try {
        String kind = Objects.requireNonNull(v.get("kind"), "kind");
        return new Setup(kind.equals("uboot") ? Kind.UBOOT : kind.equals("grub") ? Kind.GRUB : unknown(kind),
            Path.of(need(v, "environment")), Path.of(need(v, "slot-a")), Path.of(need(v, "slot-b")),
            Path.of(need(v, "cmdline")), Long.parseLong(need(v, "capacity")));
      } catch (RuntimeException e) {
        throw OtaException.of(Detail.STORE_DAMAGED, "The bootloader store's configuration " + file + " is damaged ("
            + e.getMessage() + "); nothing was changed. Restore it, or run `ota init --bootloader ... --force`.", e);
      }
    }

    private static Kind unknown(String kind) {
      throw new IllegalArgumentException("unknown bootloader " + kind);
    }

    private static String need(Map<String, String> v, String key) {
      return Objects.requireNonNull(v.get(key), key);
    }
  }

  /**
   * What the bootloader will do next, as read from its environment.
   *
   * @param kind the bootloader
   * @param environment where the environment lives, as a sentence part
   * @param order the boot order, first choice first
   * @param attemptsLeftA the attempts slot a has left (GRUB: 1 or 0)
   * @param attemptsLeftB the same for slot b
   * @param next the slot the bootloader boots next, or null when no slot has attempts left (U-Boot's
   *     script then gives both 3 again and boots the first of the order; GRUB boots its default)
   * @param fallingBack whether the first slot of the order has no attempts left: the bootloader
   *     falls back (or has fallen back) to the next one
   * @param powerSafe whether an environment write survives a power cut (false for one U-Boot copy)
   */
  public record BootloaderStatus(Kind kind, String environment, List<SlotId> order, int attemptsLeftA,
      int attemptsLeftB, @Nullable SlotId next, boolean fallingBack, boolean powerSafe) {

    /**
     * Copies the order.
     *
     * @param kind the bootloader
     * @param environment where the environment lives
     * @param order the boot order
     * @param attemptsLeftA attempts left of slot a
     * @param attemptsLeftB attempts left of slot b
     * @param next the next boot, or null
     * @param fallingBack whether the first of the order has no attempts left
     * @param powerSafe whether writes are power-safe
     */
    public BootloaderStatus {
      order = List.copyOf(order);
    }

    /**
     * The attempts a slot has left.
     *
     * @param slot the slot
     * @return the attempts
     */
    public int attemptsLeft(SlotId slot) {
      return slot == SlotId.A ? attemptsLeftA : attemptsLeftB;
    }
  }

  private final Medium medium;
  private final Layout layout;
  private final BootStateFile stateFile;
  private final Bootloader bootloader;
  private final Setup setup;
  private final long capacity;
  private final Path mountinfo;
  private final Scheduler scheduler;

  private BootloaderSlotStore(Medium medium, Layout layout, Bootloader bootloader, Setup setup, long capacity,
      Path mountinfo, Scheduler scheduler) {
    this.medium = medium;
    this.layout = layout;
    this.stateFile = new BootStateFile(medium, layout.stateFile());
    this.bootloader = bootloader;
    this.setup = setup;
    this.capacity = capacity;
    this.mountinfo = mountinfo;
    this.scheduler = scheduler;
  }

  /**
   * Creates a bootloader store with its data in {@code dir} (made if missing): checks the command
   * line, the environment and the slots, then makes the running slot the good one (its image
   * is the factory image) and takes the other out of the bootloader's choice, and records the
   * setup in {@code dir}, so that {@link #open(Path)} needs only {@code dir}.
   *
   * @param dir the data directory (state file, locks, the setup)
   * @param setup the bootloader, its environment, the slots and the command line
   * @return the store
   * @throws OtaException {@link Detail#STORE_EXISTS} when {@code dir} holds a store already
   *     (nothing changed); the errors of the class documentation, each before anything is written
   */
  public static BootloaderSlotStore init(Path dir, Setup setup) {
    return create(FileMedium.INSTANCE, dir, setup, false, PROC_MOUNTINFO, defaultEnvLock());
  }

  /**
   * As {@link #init}, replacing the store in {@code dir} (a file store or a bootloader store):
   * its metadata and journal are lost; the slots' bytes stay until written.
   *
   * @param dir the data directory
   * @param setup the setup
   * @return the store
   */
  public static BootloaderSlotStore recreate(Path dir, Setup setup) {
    return create(FileMedium.INSTANCE, dir, setup, true, PROC_MOUNTINFO, defaultEnvLock());
  }

  /**
   * Opens the bootloader store whose data is in {@code dir}.
   *
   * @param dir the data directory given to {@link #init}
   * @return the store
   * @throws OtaException {@code STORAGE} when there is none or it is damaged
   */
  public static BootloaderSlotStore open(Path dir) {
    return open(FileMedium.INSTANCE, dir, PROC_MOUNTINFO, defaultEnvLock());
  }

  /**
   * Whether {@code dir} holds a bootloader store (its recorded setup), rather than a file store.
   *
   * @param dir a store's directory
   * @return true for a bootloader store
   */
  public static boolean isIn(Path dir) {
    return Files.exists(dir.resolve(CONFIG));
  }

  static @Nullable Path defaultEnvLock() {
    // libubootenv's fw_setenv takes this lock: holding it keeps our writes and its writes apart
    return Files.isDirectory(FW_LOCK_DIR) && Files.isWritable(FW_LOCK_DIR) ? FW_LOCK_DIR.resolve("fw_printenv.lock")
        : null;
  }

  static Bootloader bootloader(Medium medium, Setup setup, @Nullable Path envLock) {
    return setup.kind() == Kind.UBOOT ? Bootloader.uboot(medium, FwEnvConfig.read(setup.environment()), envLock)
        : Bootloader.grub(medium, setup.environment());
  }

  static BootloaderSlotStore create(Medium medium, Path dir, Setup setup, boolean replace, Path mountinfo,
      @Nullable Path envLock) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(setup, "setup");
    Layout layout = Layout.onDevices(setup.slotA(), setup.slotB(), dir);
    // every check first: nothing is written before all of them pass
    refuseExisting(medium, dir, layout, replace);
    SlotId running = KernelCommandLine.runningSlot(setup.cmdline());
    Bootloader bootloader = bootloader(medium, setup, envLock);
    RaucBootVariables.BootChoice choice = bootloader.read();
    long capacity = capacity(medium, setup);
    if (setup.slotA().toAbsolutePath().normalize().equals(setup.slotB().toAbsolutePath().normalize())) {
      throw OtaException.of(Detail.INVALID_REQUEST, "Slot a and slot b are the same (" + setup.slotA() + "); give two"
          + " partitions or files. Nothing was written.");
    }
    try {
      medium.createDirectories(dir);
    } catch (IOException e) {
      throw StoreErrors.io("Creating the data directory", dir, e);
    }
    return StoreLocks.underBothLocks(medium, layout, () -> {
      refuseExisting(medium, dir, layout, replace);
      // the environment first: it is the check that can still fail (too small, unwritable), and with
      // no state file yet a cut here leaves no store, and the bootloader booting the running slot
      if (choice.attemptsLeft(running.other()) > 0 || choice.order().isEmpty() || choice.order().get(0) != running
          || choice.attemptsLeft(running) == 0 || choice.lastResort() != running) {
        bootloader.rollback(running.other());
      }
      writeConfig(medium, dir, setup);
      if (medium.exists(layout.stateFile())) {
        log.warn("Replacing the slot store in {}: the record of the slots' images is lost", dir);
      }
      BootStateFile.create(medium, layout.stateFile(), BootState.initial(capacity, running));
      log.info("Bootloader store in {}: {}, slot {} running and good", dir, bootloader.describe(), running.label());
      return new BootloaderSlotStore(medium, layout, bootloader, setup, capacity, mountinfo,
          Schedulers.boundedElastic());
    });
  }

  private static void refuseExisting(Medium medium, Path dir, Layout layout, boolean replace) {
    // the setup without a boot state is an init cut short (it writes the setup first): running it again completes it
    if (!replace && medium.exists(layout.stateFile())) {
      throw OtaException.of(Detail.STORE_EXISTS, dir + " already holds a slot store; nothing was changed. Use it as"
          + " it is; `ota init --force` replaces it, losing its record of the slots' images.");
    }
  }

  static BootloaderSlotStore open(Medium medium, Path dir, Path mountinfo, @Nullable Path envLock) {
    Objects.requireNonNull(dir, "dir");
    Path config = dir.resolve(CONFIG);
    String text;
    try {
      text = readText(medium, config);
    } catch (NoSuchFileException e) {
      throw OtaException.of(Detail.IO_ERROR, "There is no bootloader store in " + dir + " (" + config + " is missing);"
          + " create one with `ota init --slots DIR --bootloader uboot|grub ...`.", e);
    } catch (IOException e) {
      throw StoreErrors.io("Reading the bootloader store's setup", config, e);
    }
    Setup setup = Setup.decode(text, config);
    Layout layout = Layout.onDevices(setup.slotA(), setup.slotB(), dir);
    BootStateFile file = new BootStateFile(medium, layout.stateFile());
    if (!medium.exists(layout.stateFile())) {
      throw OtaException.of(Detail.IO_ERROR, "The init of the bootloader store in " + dir + " did not complete: its"
          + " setup is there but not its boot state (" + layout.stateFile() + "). Nothing was changed. Run the same"
          + " `ota init --slots " + dir + " --bootloader " + setup.kind().label() + " ...` again to complete it.");
    }
    long capacity = file.load().state().capacity();
    // as for a file store: an init whose directory sync failed may have left the entries undurable
    FileSlotStore.makeEntriesDurable(medium, dir);
    return new BootloaderSlotStore(medium, layout, bootloader(medium, setup, envLock), setup, capacity, mountinfo,
        Schedulers.boundedElastic()).dropFailedSlot();
  }

  /**
   * At open (every {@code ota} command, every process starting): when the bootloader fell back from a slot that is
   * not good (a trial it gave up, or one whose activation never completed) to the good running slot, that slot leaves
   * the bootloader's reach: U-Boot's {@code BOOT_ORDER}, GRUB's default entry. Otherwise, when the good slot is not
   * confirmed either and runs out of attempts, RAUC's U-Boot script gives both slots 3 again and boots the first of
   * {@code BOOT_ORDER}, the failed trial (campaign seed 101628). Best effort: a failure is logged and the open goes on
   * (the next open tries again; the environment write is atomic).
   */
  private BootloaderSlotStore dropFailedSlot() {
    try {
      StoreLocks.underStateLock(medium, layout, () -> {
        Snapshot now = read();
        RaucBootVariables.BootChoice c = now.choice();
        BootState meta = now.loaded().state();
        SlotId running = now.running();
        SlotId other = running.other();
        boolean reachable = setup.kind() == Kind.UBOOT ? c.order().contains(other) : c.lastResort() == other;
        if (reachable && c.attemptsLeft(other) == 0 && meta.slot(other).state() != SlotState.GOOD
            && meta.slot(running).state() == SlotState.GOOD) {
          log.info("The bootloader fell back from slot {} to the good slot {}: taking {} out of its reach",
              other.label(), running.label(), other.label());
          bootloader.dropFailed(other);
        }
        return null;
      });
    } catch (OtaException e) {
      log.warn("Could not take a failed slot out of the bootloader's reach: {}", e.getMessage());
    }
    return this;
  }

  private static String readText(Medium medium, Path file) throws IOException {
    try (Medium.Handle h = medium.open(file, Medium.Mode.READ)) {
      long size = h.size();
      if (size > 64 * 1024) {
        throw new IOException(file + " holds " + size + " bytes, more than a setup ever does");
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) size);
      while (bytes.hasRemaining() && h.read(bytes, bytes.position()) >= 0) {
        // read on
      }
      return new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8);
    }
  }

  private static long capacity(Medium medium, Setup setup) {
    long smallest = Long.MAX_VALUE;
    for (SlotId id : SlotId.values()) {
      Path slot = setup.slot(id);
      try (Medium.Handle h = medium.open(slot, Medium.Mode.READ)) {
        long size = h.size();
        boolean file = Files.isRegularFile(slot);
        if (setup.capacity() > 0 && !file && size > 0 && size < setup.capacity()) {
          throw OtaException.of(Detail.SLOT_TOO_SMALL, "Slot " + id.label() + " (" + slot + ") holds " + size
              + " bytes, less than the slot size " + setup.capacity() + "; give a smaller size or a larger"
              + " partition. Nothing was written.");
        }
        if (setup.capacity() == 0 || (!file && size > 0)) {
          smallest = Math.min(smallest, size);
        }
      } catch (NoSuchFileException e) {
        throw OtaException.of(Detail.IO_ERROR, "Slot " + id.label() + " (" + slot + ") does not exist; give the"
            + " partition (or a file) that holds it. Nothing was written.", e);
      } catch (IOException e) {
        throw StoreErrors.io("Opening slot " + id.label(), slot, e);
      }
    }
    long capacity = setup.capacity() > 0 ? Math.min(setup.capacity(), smallest) : smallest;
    if (capacity <= 0 || capacity == Long.MAX_VALUE) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The slots " + setup.slotA() + " and " + setup.slotB() + " report"
          + " no size; give the slot size (--slot-size). Nothing was written.");
    }
    return capacity;
  }

  private static void writeConfig(Medium medium, Path dir, Setup setup) throws IOException {
    AtomicFiles.replace(medium, dir.resolve(CONFIG), setup.encode().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * This store, running its blocking I/O on {@code scheduler}.
   *
   * @param scheduler where the I/O runs
   * @return a store on the same parts
   */
  public BootloaderSlotStore scheduler(Scheduler scheduler) {
    return new BootloaderSlotStore(medium, layout, bootloader, setup, capacity, mountinfo,
        Objects.requireNonNull(scheduler, "scheduler"));
  }

  /**
   * The setup recorded at {@link #init}.
   *
   * @return the setup
   */
  public Setup setup() {
    return setup;
  }

  /** The data directory (state file, locks, the recorded setup). */
  Path dataDir() {
    return layout.stateDir();
  }

  /**
   * The capacity of each slot.
   *
   * @return bytes
   */
  public long capacity() {
    return capacity;
  }

  /**
   * What the bootloader will do next, read from its environment.
   *
   * @return the bootloader's status
   */
  public Mono<BootloaderStatus> bootloaderStatus() {
    return io(() -> {
      RaucBootVariables.BootChoice c = bootloader.read();
      return new BootloaderStatus(setup.kind(), bootloader.describe(), c.order(), c.attemptsLeftA(),
          c.attemptsLeftB(), c.next().orElse(null), c.isFallingBack(), bootloader.isPowerSafe());
    });
  }

  /** What one read gives: the state file's content, the environment, the running slot, and the rules' view. */
  private record Snapshot(BootStateFile.Loaded loaded, RaucBootVariables.BootChoice choice, SlotId running,
      StoreStatus rules) {
  }

  private Snapshot read() {
    BootStateFile.Loaded loaded = stateFile.load();
    RaucBootVariables.BootChoice choice = bootloader.read();
    SlotId running = KernelCommandLine.runningSlot(setup.cmdline());
    return new Snapshot(loaded, choice, running, view(loaded.state(), choice, running, setup.kind()));
  }

  /** The {@link BootRules} state from the metadata, the environment and the running slot (see the class doc). */
  static StoreStatus view(BootState meta, RaucBootVariables.BootChoice choice, SlotId running, Kind kind) {
    Map<SlotId, SlotStatus> slots = new EnumMap<>(SlotId.class);
    SlotStatus base = null;
    for (SlotId id : SlotId.values()) {
      SlotRecord r = meta.slot(id);
      SlotState state = r.state();
      int attempts = 0;
      if (state == SlotState.TRIAL) {
        int left = choice.attemptsLeft(id);
        if (left == 0 && id != running) {
          state = SlotState.INVALID;
        } else if (kind == Kind.UBOOT) {
          attempts = BootRules.MAX_TRIAL_BOOTS - Math.min(left, BootRules.MAX_TRIAL_BOOTS);
        } else {
          attempts = left > 0 ? 0 : BootRules.MAX_TRIAL_BOOTS;
        }
      }
      slots.put(id, base = new SlotStatus(id, state, r.size(), r.sha256(), attempts, r.version(), meta.capacity()));
    }
    Objects.requireNonNull(base);
    SlotId next = null;
    for (SlotId id : choice.order()) {
      if (choice.attemptsLeft(id) > 0 || (id == running && slots.get(id).state() == SlotState.TRIAL)) {
        next = id;
        break;
      }
    }
    if (next == null) {
      // no slot has attempts left: U-Boot's script gives both 3 again and boots the first of the order; GRUB's
      // boots its default entry, whatever its _OK says (RAUC's grub.cfg: default=0 unless grubenv sets default)
      SlotId last = choice.lastResort();
      next = last == null ? running : last;
    }
    return new StoreStatus(running, next, slots);
  }

  @Override
  public Mono<SlotWriter> openWriter(ImageSpec image) {
    Objects.requireNonNull(image, "image");
    return io(() -> {
      // the boot rules refuse before the lock is taken or anything touched; checked again under the lock
      BootRules.writableSlot(read().rules());
      Medium.Lock lock = StoreLocks.update(medium, layout);
      try {
        return StoreLocks.underStateLock(medium, layout, () -> {
          Snapshot now = read();
          SlotId target = BootRules.writableSlot(now.rules());
          if (image.size() > capacity) {
            throw StoreErrors.tooLarge(image.size(), target, capacity);
          }
          refuseRootDevice(target);
          if (now.choice().attemptsLeft(target) > 0 || now.choice().order().contains(target)
              || now.choice().lastResort() == target) {
            // RAUC's "mark bad" before writing: a fallback (or GRUB's default entry) never boots a half-written slot
            bootloader.rollback(target);
          } else {
            // out of the choice as read, but an activation whose environment write failed may still reach the
            // device at a power cut and boot the slot while it is written: settled first (campaign seed 109397)
            bootloader.settle();
          }
          return FileSlotStore.startWriting(medium, layout, stateFile, image, lock,
              s -> view(s, now.choice(), now.running(), setup.kind()));
        });
      } catch (RuntimeException e) {
        lock.release();
        throw e;
      }
    });
  }

  /** The slot to write must not be the device mounted at {@code /} (the command line would be wrong). */
  private void refuseRootDevice(SlotId target) {
    Path slot = layout.slot(target);
    Optional<Path> root = rootDevice(mountinfo);
    if (root.isEmpty()) {
      return;
    }
    try {
      if (Files.exists(root.get()) && Files.exists(slot) && Files.isSameFile(root.get(), slot)) {
        throw OtaException.of(Detail.INVALID_REQUEST, "Slot " + target.label() + " (" + slot + ") is the device"
            + " mounted at / — the running system — although the kernel command line names slot "
            + target.other().label() + " as running. Nothing was written. Fix the boot script's rauc.slot= or the"
            + " slot paths given to `ota init`.");
      }
    } catch (IOException e) {
      log.debug("Comparing {} with the root device {} failed", slot, root.get(), e);
    }
  }

  /** The source of the mount at {@code /} in a {@code mountinfo} file, when it is a path. */
  static Optional<Path> rootDevice(Path mountinfo) {
    List<String> lines;
    try {
      lines = Files.readAllLines(mountinfo, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Optional.empty();
    }
    String source = null;
    for (String line : lines) {
      String[] f = line.split(" ");
      int dash = List.of(f).indexOf("-");
      if (f.length > 4 && f[4].equals("/") && dash > 0 && dash + 2 < f.length) {
        source = f[dash + 2]; // the last mount on / wins, as the kernel shows it
      }
    }
    return source != null && source.startsWith("/") ? Optional.of(Path.of(source)) : Optional.empty();
  }

  @Override
  public Mono<Void> activate(SlotId slot, Sha256 sha256) {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(sha256, "sha256");
    return io(() -> StoreLocks.underBothLocks(medium, layout, () -> {
      Snapshot now = read();
      StoreStatus next = BootRules.activate(now.rules(), slot, sha256);
      Path path = layout.slot(slot);
      try (Medium.Handle h = medium.open(path, Medium.Mode.READ)) {
        long recorded = now.loaded().state().slot(slot).size();
        if (h.size() < recorded) {
          throw OtaException.of(Detail.STORE_DAMAGED, "Slot " + slot.label() + " (" + path + ") holds " + h.size()
              + " bytes but its image has " + recorded + "; it was changed since it was verified. Download the"
              + " image again. " + StoreErrors.UNCHANGED);
        }
      } catch (IOException e) {
        throw StoreErrors.io("Activating slot " + slot.label(), path, e);
      }
      // the state file first (sealed, trial), then the environment: see the class documentation
      store(now, next);
      // the good slot stays the bootloader's last resort (GRUB's default entry), never the trial
      SlotId good = slot.other();
      bootloader.activate(slot, now.loaded().state().slot(good).state() == SlotState.GOOD ? good : null);
      return null;
    })).then();
  }

  /**
   * Fails: the bootloader counts boots and chooses the slot, before any of this runs.
   *
   * @return an error, {@link Detail#NOT_ALLOWED_NOW}
   */
  @Override
  public Mono<SlotId> boot() {
    return Mono.error(() -> OtaException.of(Detail.NOT_ALLOWED_NOW, "The bootloader counts boots and chooses the"
        + " slot (" + bootloader.describe() + "); there is nothing to do at boot but confirm a healthy boot with"
        + " `ota mark-good`. Nothing was changed."));
  }

  @Override
  public Mono<Void> markGood() {
    return io(() -> StoreLocks.underStateLock(medium, layout, () -> {
      Snapshot now = read();
      StoreStatus next = BootRules.markGood(now.rules());
      SlotId running = now.running();
      RaucBootVariables.BootChoice c = now.choice();
      // the bootloader's last resort: the good boot choice after the mark-good (not the running slot when a rollback
      // chose the other: campaign seed 100288)
      SlotId good = next.slot(next.next()).state() == SlotState.GOOD ? next.next() : null;
      // the environment first, then the state file: see the class documentation
      if (!c.order().isEmpty() && c.order().get(0) != running && c.attemptsLeft(c.order().get(0)) == 0) {
        // the bootloader fell back from the first slot of the order: take it out, as RAUC's mark-bad does
        bootloader.rollback(c.order().get(0));
      } else if (now.loaded().state().slot(running).state() == SlotState.TRIAL
          && (c.order().isEmpty() || c.order().get(0) != running)) {
        // a confirmed trial stays the boot choice, also when a rollback that failed half-way (its environment
        // written, not its state file) took it out of the order (campaign seed 100471)
        bootloader.activate(running, running);
      } else if (c.attemptsLeft(running) < (setup.kind() == Kind.UBOOT ? RaucBootVariables.ATTEMPTS : 1)
          || !c.order().contains(running) || (good != null && c.lastResort() != good)) {
        bootloader.markGood(running, good);
      }
      store(now, next);
      return null;
    })).then();
  }

  @Override
  public Mono<SlotId> rollback() {
    return io(() -> StoreLocks.underStateLock(medium, layout, () -> {
      Snapshot now = read();
      StoreStatus next = BootRules.rollback(now.rules());
      // the environment first (the given-up slot out of the order), then the state file
      bootloader.rollback(now.rules().next());
      store(now, next);
      return next.next();
    }));
  }

  /**
   * Reads the running slot's committed image, so a delta update reuses its chunks: the slot the kernel
   * command line names (not the next boot choice), with the size and digest the state file recorded when
   * the image was committed. A running trial that is not confirmed yet is read the same way. The slot is
   * opened read-only and nothing is locked: the update asking holds the update lock, and the running slot
   * is never written; the bootloader's environment is not read.
   *
   * @return the reader; an error {@link Detail#NOT_ALLOWED_NOW} when the running slot holds no image the
   *     store committed (the image the device was flashed with, recorded at {@link #init} without a size
   *     or digest): a delta update then says so and downloads the whole image
   */
  @Override
  public Mono<SlotReader> openRunning() {
    return io(() -> {
      SlotId running = KernelCommandLine.runningSlot(setup.cmdline());
      SlotRecord slot = stateFile.load().state().slot(running);
      Sha256 digest = slot.sha256();
      if (digest == null || slot.size() <= 0) {
        throw OtaException.of(Detail.NOT_ALLOWED_NOW, "Slot " + running.label() + " runs an image this store did not"
            + " install (" + (slot.state() == SlotState.GOOD ? "the one the device was flashed with: " : "")
            + "no size or digest recorded), so it is not read for a delta; deltas start once an update has installed"
            + " the running image.");
      }
      return RunningSlotReader.open(medium, layout.slot(running), running, slot.size(), digest);
    });
  }

  @Override
  public Mono<StoreStatus> status() {
    return io(() -> read().rules());
  }

  @Override
  public String toString() {
    return "BootloaderSlotStore[" + bootloader.describe() + ", slots " + layout.slotA() + ", " + layout.slotB()
        + ", state " + layout.stateFile() + "]";
  }

  /** Writes the metadata of {@code next} to the state file when it differs from what is there. */
  private void store(Snapshot now, StoreStatus next) {
    BootState current = now.loaded().state();
    BootState state = current.follow(next);
    if (!state.equals(current)) {
      try {
        stateFile.store(state, now.loaded());
      } catch (IOException e) {
        throw StoreErrors.io("Writing the boot state", layout.stateFile(), e);
      }
    }
  }

  /** {@inheritDoc} Kept in {@code slot-X.chunks} in the data directory, replaced atomically and synced. */
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
}
