package io.otaflux.storage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.SlotStore;
import io.otaflux.testkit.InMemoryFirmwareSource;

import org.jspecify.annotations.Nullable;

import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The in-process I/O-fault campaign: each run, from its own seed, puts a store on a
 * {@link ChaosMedium} (random EIO, ENOSPC and short writes on open, write, sync, rename and directory
 * sync, and a power cut at a random operation that loses, keeps or tears the unsynced data) and
 * drives it through a random sequence of updates (the real {@link OtaUpdater} reading a real
 * in-memory firmware source), activations, boots, mark-goods and rollbacks. Then the power goes
 * (if it has not already) and the oracle looks at what a restarted device finds:
 * <ul>
 *   <li>the store opens, or refuses with {@code STORE_DAMAGED} (counted; never anything else);</li>
 *   <li>the boot choice is a good or trial slot whose bytes match its recorded digest, and so is
 *       the slot the next boot takes (no partially written image ever boots);</li>
 *   <li>a confirmed image is never lost: the image last confirmed by a mark-good that returned (or
 *       the rollback target last chosen) is still a good slot with its bytes, or, when that step
 *       failed half-way, the one before it;</li>
 *   <li>the device can still update: after the reboot, a faultless update succeeds.</li>
 * </ul>
 * Every operation failing with anything but an {@link OtaException} is a failure too.
 *
 * <p>Run it: {@code IoFaultCampaignTest} runs a CI sample in {@code mvn verify};
 * {@code -Dchaos.seed=N -Dchaos.runs=M} on that test, or {@link #main} with {@code --seed N --runs M
 * [--store file]}, runs more. Run {@code i} uses seed {@code N + i}; a failure line names it.
 */
final class IoFaultCampaign {

  /** What one run found. */
  record Run(long seed, Map<ChaosMedium.Fault, Integer> faults, @Nullable String failure, boolean refusedOpen,
      int installed, int operations, Map<String, Integer> refusals, boolean toolChecked, boolean lastResort,
      int fallbacksFromConfirmed) {

    int faultCount() {
      return faults.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** The figures of a campaign. */
  static final class Summary {
    final String store;
    final long firstSeed;
    int runs;
    int runsWithFaults;
    long faults;
    int failures;
    int unsafeBoots;
    int lostConfirmations;
    int disagreements;
    /** Runs whose boot after the reboot was the bootloader's last resort (no slot had attempts left). */
    int lastResortBoots;
    /** Of those, the unsafe ones: counted apart from the store's own unsafe boots (see {@link #LAST_RESORT}). */
    int lastResortUnsafe;
    /** Fallbacks of the bootloader from a confirmed image that booted without being confirmed again. */
    int fallbacksFromConfirmed;
    final List<String> lastResortLines = new ArrayList<>();
    int toolChecks;
    int refusedOpens;
    int installed;
    long operations;
    final Map<ChaosMedium.Fault, Long> byKind = new EnumMap<>(ChaosMedium.Fault.class);
    final Map<String, Long> refusals = new TreeMap<>();
    final List<String> failureLines = new ArrayList<>();

    Summary(String store, long firstSeed) {
      this.store = store;
      this.firstSeed = firstSeed;
    }

    void add(Run run) {
      runs++;
      operations += run.operations();
      installed += run.installed();
      if (run.faultCount() > 0) {
        runsWithFaults++;
      }
      faults += run.faultCount();
      run.faults().forEach((k, v) -> byKind.merge(k, (long) v, Long::sum));
      run.refusals().forEach((k, v) -> refusals.merge(k, (long) v, Long::sum));
      if (run.refusedOpen()) {
        refusedOpens++;
      }
      if (run.toolChecked()) {
        toolChecks++;
      }
      if (run.lastResort()) {
        lastResortBoots++;
      }
      fallbacksFromConfirmed += run.fallbacksFromConfirmed();
      String f = run.failure();
      if (f != null && f.startsWith(LAST_RESORT)) {
        lastResortUnsafe++;
        lastResortLines.add("LAST-RESORT store=" + store + " seed=" + run.seed() + ": " + f);
      } else if (f != null) {
        failures++;
        if (f.startsWith("unsafe boot")) {
          unsafeBoots++;
        }
        if (f.startsWith("lost confirmation")) {
          lostConfirmations++;
        }
        if (f.startsWith("bootloader disagrees")) {
          disagreements++;
        }
        failureLines.add("FAIL store=" + store + " seed=" + run.seed() + ": " + f);
      }
    }

    String table() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "I/O-fault campaign, store=%s, seeds %d..%d%n", store, firstSeed,
          firstSeed + runs - 1));
      row(b, "runs", runs);
      row(b, "runs with >= 1 fault injected", runsWithFaults);
      row(b, "faults injected", faults);
      for (ChaosMedium.Fault k : ChaosMedium.Fault.values()) {
        row(b, "  " + k.name().toLowerCase(Locale.ROOT), byKind.getOrDefault(k, 0L));
      }
      row(b, "operations (update/activate/boot/mark-good/rollback)", operations);
      row(b, "updates installed", installed);
      for (Map.Entry<String, Long> e : refusals.entrySet()) {
        row(b, "  failed/refused with " + e.getKey(), e.getValue());
      }
      row(b, "store refused to open (STORE_DAMAGED)", refusedOpens);
      if (toolChecks > 0) {
        row(b, "runs checked by the bootloader's tool (fw_printenv/grub-editenv)", toolChecks);
        row(b, "bootloader disagrees with status", disagreements);
      }
      row(b, "unsafe boots (by the store)", unsafeBoots);
      if (lastResortBoots > 0 || lastResortUnsafe > 0) {
        row(b, "boots by the bootloader's last resort (no slot left to try)", lastResortBoots);
        row(b, "  of which unsafe (the bootloader's counting, not the store)", lastResortUnsafe);
      }
      row(b, "fallbacks from a confirmed image that booted unconfirmed (the slot fallen back to is kept from then)",
          fallbacksFromConfirmed);
      row(b, "lost confirmations", lostConfirmations);
      row(b, "failures", failures);
      return b.toString();
    }

    private static void row(StringBuilder b, String name, long value) {
      b.append(String.format(Locale.ROOT, "  %-55s %10d%n", name, value));
    }
  }

  private static final double[] RATES = {0.005, 0.02, 0.05, 0.1};
  private static final String FACTORY = "factory image";

  private IoFaultCampaign() {
  }

  static Summary campaign(CampaignStore store, long firstSeed, int runs) {
    Summary summary = new Summary(store.name(), firstSeed);
    for (int i = 0; i < runs; i++) {
      summary.add(run(store, firstSeed + i));
    }
    return summary;
  }

  /** One run, reproducible from {@code seed}. */
  static Run run(CampaignStore kind, long seed) {
    Random random = new Random(seed);
    long flashOps = flashOperations(kind);
    long setupOps = setupOperations(kind) - flashOps;
    boolean powerCut = random.nextInt(4) != 0;
    // one run in five creates the store under faults too (its rename and directory sync)
    boolean faultyInit = random.nextInt(5) == 0;
    long cutAt = !powerCut ? Long.MAX_VALUE
        : flashOps + (faultyInit ? 1 + random.nextInt((int) setupOps + 200) : setupOps + 1 + random.nextInt(250));
    CrashMedium crash = CrashMedium.cuttingAt(cutAt);
    kind.flash(crash);
    ChaosMedium medium = new ChaosMedium(crash, random, RATES[random.nextInt(RATES.length)]);
    Map<String, Integer> refusals = new TreeMap<>();
    boolean tools = kind.hasBootloader() && Math.floorMod(seed, TOOL_EVERY) == 0;
    medium.enabled(faultyInit);
    boolean created = false;
    for (int attempt = 0; attempt < 10 && !created && !crash.isCut(); attempt++) {
      try {
        kind.create(medium);
        created = true;
      } catch (OtaException e) {
        refusals.merge("init: " + e.detail(), 1, Integer::sum);
      } catch (Throwable e) {
        if (!crash.isCut()) {
          return new Run(seed, medium.injected(), "unexpected exception creating the store (not an OtaException): "
              + e, false, 0, 0, refusals, false, false, 0);
        }
      }
    }
    medium.enabled(true);

    byte[][] images = new byte[3][];
    for (int i = 0; i < images.length; i++) {
      images[i] = new byte[8 * 1024 + random.nextInt((int) CampaignStore.CAPACITY - 8 * 1024)];
      random.nextBytes(images[i]);
    }
    Set<String> mustKeep = new HashSet<>(Set.of(FACTORY));
    // the last boot booted an image that must be kept and no mark-good has succeeded since: if the next boot is
    // another good slot, the bootloader fell back from the confirmed image because it failed a boot (GRUB after one
    // such boot, U-Boot after three), which is its job, and what it fell back to must be kept from then on
    boolean keptBootUnconfirmed = false;
    int fallbacksFromConfirmed = 0;
    int installed = 0;
    int operations = 0;
    @Nullable byte[] lastInstalled = null;
    int steps = 4 + random.nextInt(12);
    List<String> trace = new ArrayList<>();
    String failure = null;
    for (int step = 0; created && step < steps && !crash.isCut() && failure == null; step++) {
      int op = random.nextInt(10);
      String name = op < 4 ? "update" : op < 5 ? "activate" : op < 7 ? "boot" : op < 9 ? "mark-good" : "rollback";
      operations++;
      StoreStatus before;
      try {
        before = kind.open(medium).status().block();
      } catch (OtaException e) {
        refusals.merge("open: " + e.detail(), 1, Integer::sum);
        continue;
      } catch (Throwable e) {
        if (crash.isCut()) {
          break;
        }
        failure = "unexpected exception opening the store before " + name + ": " + e;
        break;
      }
      if (before == null) {
        failure = "no status before " + name;
        break;
      }
      try {
        SlotStore store = kind.open(medium);
        switch (name) {
          case "update": {
            byte[] image = images[random.nextInt(images.length)];
            boolean activate = random.nextBoolean();
            lastInstalled = image;
            install(store, image, random, activate);
            installed++;
            break;
          }
          case "activate": {
            byte[] image = lastInstalled != null ? lastInstalled : images[0];
            store.activate(before.inactive(), Sha256.digest(image)).block();
            break;
          }
          case "boot": {
            SlotStatus booted = before.slot(kind.boot(medium, crash));
            String bootedKey = key(booted);
            if (keptBootUnconfirmed && booted.state() == SlotState.GOOD && !mustKeep.contains(bootedKey)) {
              mustKeep.add(bootedKey);
              fallbacksFromConfirmed++;
            }
            keptBootUnconfirmed = mustKeep.contains(bootedKey);
            break;
          }
          case "mark-good":
            if (before.slot(before.active()).state() == SlotState.TRIAL) {
              mustKeep.add(key(before.slot(before.active())));
            }
            store.markGood().block();
            keptBootUnconfirmed = false;
            // confirming a trial changes what must be kept; on a good slot mark-good changes nothing (it does not
            // undo a rollback that chose the other slot: campaign seed 106515)
            if (before.slot(before.active()).state() == SlotState.TRIAL) {
              mustKeep = new HashSet<>(Set.of(key(before.slot(before.active()))));
            }
            break;
          default: {
            SlotStatus target = before.slot(before.next().other());
            if (target.state() == SlotState.GOOD) {
              mustKeep.add(key(target));
            }
            store.rollback().block();
            mustKeep = new HashSet<>(Set.of(key(target)));
            break;
          }
        }
        trace.add(name + " ok" + (TRACE ? " -> " + brief(kind, crash) : ""));
      } catch (OtaException e) {
        refusals.merge(name + ": " + e.detail(), 1, Integer::sum);
        trace.add(name + " " + e.detail());
        continue;
      } catch (Throwable e) {
        if (crash.isCut()) {
          trace.add(name + " cut");
          break;
        }
        failure = "unexpected exception during " + name + " (not an OtaException): " + e;
      }
    }
    if (crash.isCut()) {
      medium.count(ChaosMedium.Fault.POWER_CUT);
    }
    boolean[] lastResort = {false};
    if (failure == null) {
      CrashMedium.Survival survival = CrashMedium.Survival.values()[random.nextInt(3)];
      CrashMedium rebooted = crash.reboot(survival, random.nextLong());
      failure = oracle(kind, rebooted, created, mustKeep, images[0], random, tools, lastResort);
      if (failure != null && !failure.equals(REFUSED)) {
        failure = failure + " [after the power went, unsynced data " + survival + "; steps " + trace + "]";
      }
      if (failure != null && failure.equals(REFUSED)) {
        return new Run(seed, medium.injected(), null, true, installed, operations, refusals, false, false,
            fallbacksFromConfirmed);
      }
    }
    return new Run(seed, medium.injected(), failure, false, installed, operations, refusals, tools, lastResort[0],
        fallbacksFromConfirmed);
  }

  private static final String REFUSED = "refused";

  /** {@code -Dchaos.trace=true}: each step of a failure's trace shows the state it left (slower). */
  private static final boolean TRACE = Boolean.getBoolean("chaos.trace");

  private static String brief(CampaignStore kind, CrashMedium crash) {
    try {
      StoreStatus s = kind.open(crash).status().block();
      if (s == null) {
        return "?";
      }
      StringBuilder b = new StringBuilder("run " + s.active().label() + " next " + s.next().label());
      for (SlotStatus slot : s.slots().values()) {
        Sha256 sha = slot.sha256();
        b.append(' ').append(slot.slot().label()).append('=').append(slot.state().label())
            .append(sha == null ? "" : ":" + sha.hex().substring(0, 6)).append(slot.attempts() > 0 ? "/" + slot.attempts() : "");
      }
      return b.toString();
    } catch (RuntimeException | Error e) {
      return "(" + e.getClass().getSimpleName() + ")";
    }
  }

  /**
   * The start of a failure where the bootloader found no slot with attempts left (U-Boot: both counters at 0, its
   * script gives both 3 again and boots the first of {@code BOOT_ORDER}; GRUB: no slot {@code _OK=1} with
   * {@code _TRY=0}, it boots its default entry) and that boot is not a verified image: the bootloader's own counting
   * when no boot was confirmed, counted apart from the store's unsafe boots. The store keeps the last resort on the
   * good slot (GRUB's {@code default}, a failed slot out of {@code BOOT_ORDER} at the next open), so this counts the
   * cases it could not reach (no open between the boots, or its write failed).
   */
  static final String LAST_RESORT = "unsafe boot (the bootloader's last resort)";

  private static @Nullable String oracle(CampaignStore kind, CrashMedium medium, boolean created,
      Set<String> mustKeep, byte[] image, Random random, boolean tools, boolean[] lastResortBoot) {
    SlotStore store;
    StoreStatus status;
    if (!created) {
      // the init never returned: the store is there, or absent or refused by name, and an init again makes one
      try {
        kind.open(medium).status().block();
      } catch (OtaException e) {
        try {
          kind.create(medium);
        } catch (RuntimeException again) {
          return "after an init cut short, an init again fails: " + again;
        }
      } catch (RuntimeException e) {
        return "after an init cut short, the store does not open (not an OtaException): " + e;
      }
    }
    try {
      store = kind.open(medium);
      status = store.status().block();
    } catch (OtaException e) {
      if (e.detail() == OtaException.Detail.STORE_DAMAGED) {
        if (TRACE) {
          System.out.println("refused: " + e.getMessage());
        }
        return REFUSED;
      }
      return "the store does not open after the reboot: " + e.detail() + ": " + e.getMessage();
    } catch (RuntimeException e) {
      return "the store does not open after the reboot (not an OtaException): " + e;
    }
    if (status == null) {
      return "no status after the reboot";
    }
    if (tools) {
      String disagree = kind.bootloaderDisagrees(medium, status);
      if (disagree != null) {
        return "bootloader disagrees: " + disagree;
      }
    }
    boolean lastResort = kind.bootsLastResort(medium);
    lastResortBoot[0] = lastResort;
    String unsafe = lastResort ? LAST_RESORT + ": " : "unsafe boot: ";
    String bad = verified(kind, medium, status.slot(status.next()), "the boot choice");
    if (bad != null) {
      return unsafe + bad + " in " + status;
    }
    boolean kept = false;
    for (SlotStatus s : status.slots().values()) {
      if (s.state() == SlotState.GOOD && mustKeep.contains(key(s)) && verified(kind, medium, s, "") == null) {
        kept = true;
      }
    }
    if (!kept) {
      return "lost confirmation: none of " + mustKeep + " is a good slot holding its bytes in " + status;
    }
    SlotId predicted;
    try {
      predicted = BootRules.boot(status).active();
    } catch (RuntimeException e) {
      return "the boot rules cannot predict the next boot from " + status + ": " + e;
    }
    StoreStatus booted;
    SlotId slot;
    try {
      slot = kind.boot(medium, medium);
      booted = store.status().block();
    } catch (RuntimeException e) {
      return "unsafe boot: the boot after the reboot failed: " + e;
    }
    if (booted == null) {
      return "no status after the boot";
    }
    if (lastResort && slot != status.next() && slot != predicted) {
      return "bootloader disagrees: the bootloader's last resort boots " + slot.label() + " but the status " + status
          + " names " + status.next().label() + " next and the rules predict " + predicted.label();
    }
    bad = verified(kind, medium, booted.slot(slot), "the booted slot");
    if (bad != null) {
      return unsafe + bad + " in " + booted;
    }
    if ((slot != predicted && !(lastResort && slot == status.next())) || booted.active() != slot) {
      return "bootloader disagrees: " + slot.label() + " booted, status " + status + " predicted " + predicted.label()
          + ", and status after the boot names " + booted.active().label() + " running";
    }
    // the device can still update once its running image is confirmed
    try {
      store.markGood().block();
      install(store, image, random, false);
    } catch (RuntimeException e) {
      return "after recovery a faultless update fails: " + e;
    }
    return null;
  }

  private static @Nullable String verified(CampaignStore kind, CrashMedium medium, SlotStatus slot, String what) {
    if (!slot.state().isBootable()) {
      return what + " " + slot.slot().label() + " is " + slot.state().label();
    }
    Sha256 recorded = slot.sha256();
    if (recorded == null) {
      return slot.size() == 0 ? null : what + " " + slot.slot().label() + " has no recorded digest";
    }
    byte[] bytes = kind.slotBytes(medium, slot.slot());
    if (bytes == null || bytes.length < slot.size()) {
      return what + " " + slot.slot().label() + " holds fewer bytes than its image";
    }
    if (!Sha256.digest(Arrays.copyOf(bytes, (int) slot.size())).equals(recorded)) {
      return what + " " + slot.slot().label() + " holds bytes that do not match its recorded digest";
    }
    return null;
  }

  private static String key(SlotStatus s) {
    Sha256 sha = s.sha256();
    return sha == null ? FACTORY : sha.hex().substring(0, 12);
  }

  static void install(SlotStore store, byte[] image, Random random, boolean activate) {
    Sha256 sha = Sha256.digest(image);
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(1024 + random.nextInt(16 * 1024));
    OtaUpdater.create().source(source).store(store).retry(0, Duration.ZERO, Duration.ZERO)
        .scheduler(VirtualTimeScheduler.create()).writeScheduler(Schedulers.immediate()).syncEvery(64 * 1024)
        .install(UpdateRequest.of("https://fw.example/" + sha.hex().substring(0, 8) + ".bin").withSize(image.length)
            .withSha256(sha).withVersion("v" + image.length).withActivation(activate))
        .block();
  }

  private static final Map<String, Long> SETUP = new java.util.concurrent.ConcurrentHashMap<>();
  private static final Map<String, Long> FLASH = new java.util.concurrent.ConcurrentHashMap<>();

  /** Every how many runs (by seed) the bootloader's real tools check the environment: {@code -Dchaos.toolEvery}. */
  static final int TOOL_EVERY = Integer.getInteger("chaos.toolEvery", 5);

  /** Operations of flashing the device and creating the store on it. */
  private static long setupOperations(CampaignStore kind) {
    return SETUP.computeIfAbsent(kind.name(), n -> {
      CrashMedium m = CrashMedium.reliable();
      kind.flash(m);
      kind.create(m);
      return m.operations();
    });
  }

  private static long flashOperations(CampaignStore kind) {
    return FLASH.computeIfAbsent(kind.name(), n -> {
      CrashMedium m = CrashMedium.reliable();
      kind.flash(m);
      return m.operations();
    });
  }

  /**
   * {@code --seed N} (default 19000), {@code --runs M} (default 10000), {@code --store file}: runs
   * the campaign, prints a line per failure and the summary table; exits 1 when a run failed.
   */
  public static void main(String[] args) {
    long seed = 19_000;
    int runs = 10_000;
    List<CampaignStore> stores = CampaignStore.all();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--store" -> stores = List.of(CampaignStore.named(args[++i]));
        default -> throw new IllegalArgumentException("usage: --seed N --runs M [--store file|uboot|grub]");
      }
    }
    boolean failed = false;
    for (CampaignStore store : stores) {
      Summary s = new Summary(store.name(), seed);
      for (int i = 0; i < runs; i++) {
        Run r = run(store, seed + i);
        s.add(r);
        if (r.failure() != null) {
          System.out.println("seen: seed=" + r.seed() + ": " + r.failure()); // while a long run goes on
        }
        if ((i + 1) % 1000 == 0 && i + 1 < runs) {
          System.out.print("after " + (i + 1) + " runs:\n" + s.table()); // a long run shows where it is
          System.out.flush();
        }
      }
      s.failureLines.forEach(System.out::println);
      s.lastResortLines.forEach(System.out::println);
      System.out.print(s.table());
      failed |= s.failures > 0;
    }
    System.exit(failed ? 1 : 0);
  }
}
