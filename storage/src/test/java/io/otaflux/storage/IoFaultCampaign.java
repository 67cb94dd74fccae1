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
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.spi.SlotStore;

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
      int installed, int operations, Map<String, Integer> refusals) {

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
      String f = run.failure();
      if (f != null) {
        failures++;
        if (f.startsWith("unsafe boot")) {
          unsafeBoots++;
        }
        if (f.startsWith("lost confirmation")) {
          lostConfirmations++;
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
      row(b, "unsafe boots", unsafeBoots);
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
    long setupOps = setupOperations(kind);
    boolean powerCut = random.nextInt(4) != 0;
    // one run in five creates the store under faults too (its rename and directory sync)
    boolean faultyInit = random.nextInt(5) == 0;
    long cutAt = !powerCut ? Long.MAX_VALUE
        : faultyInit ? 1 + random.nextInt((int) setupOps + 200) : setupOps + 1 + random.nextInt(250);
    CrashMedium crash = CrashMedium.cuttingAt(cutAt);
    ChaosMedium medium = new ChaosMedium(crash, random, RATES[random.nextInt(RATES.length)]);
    Map<String, Integer> refusals = new TreeMap<>();
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
              + e, false, 0, 0, refusals);
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
          case "boot":
            store.boot().block();
            break;
          case "mark-good":
            if (before.slot(before.active()).state() == SlotState.TRIAL) {
              mustKeep.add(key(before.slot(before.active())));
            }
            store.markGood().block();
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
        trace.add(name + " ok");
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
    if (failure == null) {
      CrashMedium.Survival survival = CrashMedium.Survival.values()[random.nextInt(3)];
      CrashMedium rebooted = crash.reboot(survival, random.nextLong());
      failure = oracle(kind, rebooted, created, mustKeep, images[0], random);
      if (failure != null) {
        failure = failure + " [after the power went, unsynced data " + survival + "; steps " + trace + "]";
      }
      if (failure != null && failure.equals(REFUSED)) {
        return new Run(seed, medium.injected(), null, true, installed, operations, refusals);
      }
    }
    return new Run(seed, medium.injected(), failure, false, installed, operations, refusals);
  }

  private static final String REFUSED = "refused";

  private static @Nullable String oracle(CampaignStore kind, CrashMedium medium, boolean created,
      Set<String> mustKeep, byte[] image, Random random) {
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
        return REFUSED;
      }
      return "the store does not open after the reboot: " + e.detail() + ": " + e.getMessage();
    } catch (RuntimeException e) {
      return "the store does not open after the reboot (not an OtaException): " + e;
    }
    if (status == null) {
      return "no status after the reboot";
    }
    String bad = verified(kind, medium, status.slot(status.next()), "the boot choice");
    if (bad != null) {
      return "unsafe boot: " + bad + " in " + status;
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
    StoreStatus booted;
    try {
      store.boot().block();
      booted = store.status().block();
    } catch (RuntimeException e) {
      return "unsafe boot: the boot after the reboot failed: " + e;
    }
    if (booted == null) {
      return "no status after the boot";
    }
    bad = verified(kind, medium, booted.slot(booted.active()), "the booted slot");
    if (bad != null) {
      return "unsafe boot: " + bad + " in " + booted;
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

  private static void install(SlotStore store, byte[] image, Random random, boolean activate) {
    Sha256 sha = Sha256.digest(image);
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).chunkSize(1024 + random.nextInt(16 * 1024));
    OtaUpdater.create().source(source).store(store).retry(0, Duration.ZERO, Duration.ZERO)
        .scheduler(VirtualTimeScheduler.create()).writeScheduler(Schedulers.immediate()).syncEvery(64 * 1024)
        .install(UpdateRequest.of("https://fw.example/" + sha.hex().substring(0, 8) + ".bin").withSize(image.length)
            .withSha256(sha).withVersion("v" + image.length).withActivation(activate))
        .block();
  }

  private static final Map<String, Long> SETUP = new java.util.concurrent.ConcurrentHashMap<>();

  private static long setupOperations(CampaignStore kind) {
    return SETUP.computeIfAbsent(kind.name(), n -> {
      CrashMedium m = CrashMedium.reliable();
      kind.create(m);
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
        default -> throw new IllegalArgumentException("usage: --seed N --runs M [--store file]");
      }
    }
    boolean failed = false;
    for (CampaignStore store : stores) {
      Summary s = campaign(store, seed, runs);
      s.failureLines.forEach(System.out::println);
      System.out.print(s.table());
      failed |= s.failures > 0;
    }
    System.exit(failed ? 1 : 0);
  }
}
