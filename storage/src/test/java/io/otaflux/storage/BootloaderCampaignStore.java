package io.otaflux.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.scheduler.Schedulers;

/**
 * The bootloader store in the I/O-fault campaign: two slot partitions and the bootloader's
 * environment (a redundant U-Boot environment located by a {@code fw_env.config}, or a GRUB
 * {@code grubenv}) on the simulated medium, the data directory {@link CampaignStore#DIR} beside
 * them. Every byte the store writes (environment, state file, setup, slots) goes through the
 * campaign's {@link Medium}. A boot is what RAUC's boot script does ({@link TestBootloader}): the
 * bootloader's own environment writes are not our process's, so they see power cuts but no injected
 * I/O faults. Two parts are real files outside the medium, as they are outside the store on a device:
 * the {@code fw_env.config} and the kernel command line (the running slot).
 *
 * <p>The oracle's bootloader view ({@link #bootloaderDisagrees}): the environment's bytes are copied to
 * a real file and read by Debian's own {@code fw_printenv} (with a generated {@code fw_env.config}) or
 * {@code grub-editenv list}; their variables must be ours, and what RAUC's script boots from them, and
 * each trial's counter, must be what the store's status says.
 */
final class BootloaderCampaignStore implements CampaignStore {

  @Override
  public boolean hasBootloader() {
    return true;
  }

  static final Path SLOT_A = Path.of("/sim/dev/slot-a");
  static final Path SLOT_B = Path.of("/sim/dev/slot-b");
  static final Path UBOOT_ENV = Path.of("/sim/dev/uboot-env");
  static final Path GRUBENV = Path.of("/sim/boot/grub/grubenv");
  private static final int ENV_SIZE = 0x2000;
  private static final Path NO_MOUNTINFO = Path.of("/nonexistent/mountinfo");

  private final BootloaderSlotStore.Kind kind;
  private @Nullable Path realDir;

  BootloaderCampaignStore(BootloaderSlotStore.Kind kind) {
    this.kind = kind;
  }

  @Override
  public String name() {
    return kind.label();
  }

  /** The real directory holding the fw_env.config, the kernel command line and the tools' copies. */
  private synchronized Path realDir() {
    Path d = realDir;
    if (d == null) {
      try {
        d = Files.createTempDirectory("chaos-" + kind.label() + "-");
        Files.writeString(d.resolve("fw_env.config"), UBOOT_ENV + " 0x0 0x" + Integer.toHexString(ENV_SIZE) + "\n"
            + UBOOT_ENV + " 0x" + Integer.toHexString(ENV_SIZE) + " 0x" + Integer.toHexString(ENV_SIZE) + "\n");
        Files.writeString(d.resolve("printenv.config"), d.resolve("env.img") + " 0x0 0x"
            + Integer.toHexString(ENV_SIZE) + "\n" + d.resolve("env.img") + " 0x" + Integer.toHexString(ENV_SIZE)
            + " 0x" + Integer.toHexString(ENV_SIZE) + "\n");
        d.toFile().deleteOnExit();
        for (String f : List.of("fw_env.config", "printenv.config", "cmdline", "env.img", "grubenv")) {
          d.resolve(f).toFile().deleteOnExit();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      realDir = d;
    }
    return d;
  }

  BootloaderSlotStore.Setup setup() {
    Path d = realDir();
    BootloaderSlotStore.Setup s = kind == BootloaderSlotStore.Kind.UBOOT
        ? BootloaderSlotStore.Setup.uboot(d.resolve("fw_env.config"), SLOT_A, SLOT_B)
        : BootloaderSlotStore.Setup.grub(GRUBENV, SLOT_A, SLOT_B);
    return s.withCmdline(d.resolve("cmdline")).withCapacity(CAPACITY);
  }

  /** The device as flashed: slot a holds the factory image and boots, slot b is blank, the environment RAUC's. */
  @Override
  public void flash(CrashMedium medium) {
    try {
      Files.writeString(setup().cmdline(), "root=/dev/mmcblk0p2 rauc.slot=A rw\n", StandardCharsets.UTF_8);
      for (Path p : List.of(SLOT_A, SLOT_B)) {
        medium.createDirectories(Objects.requireNonNull(p.getParent()));
        try (Medium.Handle h = medium.open(p, Medium.Mode.CREATE)) {
          byte[] bytes = new byte[(int) CAPACITY];
          if (p == SLOT_A) {
            byte[] factory = "factory image of slot a".getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(factory, 0, bytes, 0, factory.length);
          }
          h.write(ByteBuffer.wrap(bytes), 0);
          h.force();
        }
      }
      Map<String, @Nullable String> vars = new LinkedHashMap<>();
      if (kind == BootloaderSlotStore.Kind.UBOOT) {
        try (Medium.Handle h = medium.open(UBOOT_ENV, Medium.Mode.CREATE)) {
          h.write(ByteBuffer.wrap(new byte[2 * ENV_SIZE]), 0);
          h.force();
        }
        vars.put("bootcmd", "run rauc_boot");
        vars.put("BOOT_ORDER", "A B");
        vars.put("BOOT_A_LEFT", "3");
        vars.put("BOOT_B_LEFT", "3");
        new UbootEnvironment(medium, FwEnvConfig.read(setup().environment()))
            .format(EnvVariables.empty().with(vars, UbootEnvironment::entry));
      } else {
        medium.createDirectories(Objects.requireNonNull(GRUBENV.getParent()));
        vars.put("ORDER", "A B");
        vars.put("A_OK", "1");
        vars.put("A_TRY", "0");
        vars.put("B_OK", "1");
        vars.put("B_TRY", "0");
        try (Medium.Handle h = medium.open(GRUBENV, Medium.Mode.CREATE_EMPTY)) {
          h.write(ByteBuffer.wrap(GrubEnvironment.encode(EnvVariables.empty().with(vars, GrubEnvironment::line),
              GRUBENV)), 0);
          h.force();
        }
        medium.syncDirectory(Objects.requireNonNull(GRUBENV.getParent()));
      }
      medium.syncDirectory(Objects.requireNonNull(SLOT_A.getParent()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void create(Medium medium) {
    try {
      BootloaderSlotStore.create(medium, DIR, setup(), false, NO_MOUNTINFO, null);
    } catch (OtaException e) {
      if (e.detail() != OtaException.Detail.STORE_EXISTS) {
        throw e;
      }
      // an init run again finds the store (the first one failed after writing it): it uses it
      open(medium).status().block();
    }
  }

  @Override
  public SlotStore open(Medium medium) {
    return BootloaderSlotStore.open(medium, DIR, NO_MOUNTINFO, null).scheduler(Schedulers.immediate());
  }

  @Override
  public SlotId boot(Medium faulty, Medium device) {
    try {
      BootloaderSlotStore.Setup s = setup();
      return kind == BootloaderSlotStore.Kind.UBOOT
          ? TestBootloader.bootUboot(device, FwEnvConfig.read(s.environment()), s.cmdline())
          : TestBootloader.bootGrub(device, GRUBENV, s.cmdline());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public byte @Nullable [] slotBytes(CrashMedium medium, SlotId slot) {
    return medium.contents(slot == SlotId.A ? SLOT_A : SLOT_B);
  }

  @Override
  public @Nullable String bootloaderDisagrees(CrashMedium medium, StoreStatus status) {
    Path d = realDir();
    Map<String, String> ours;
    Map<String, String> theirs;
    try {
      if (kind == BootloaderSlotStore.Kind.UBOOT) {
        ours = new UbootEnvironment(medium, FwEnvConfig.read(setup().environment())).read().variables().asMap();
        Files.write(d.resolve("env.img"), Objects.requireNonNull(medium.contents(UBOOT_ENV)));
        theirs = RealTools.variables(tool(d, "fw_printenv", "-c", d.resolve("printenv.config").toString()));
      } else {
        ours = new GrubEnvironment(medium, GRUBENV).read().asMap();
        Files.write(d.resolve("grubenv"), Objects.requireNonNull(medium.contents(GRUBENV)));
        theirs = RealTools.variables(tool(d, "grub-editenv", d.resolve("grubenv").toString(), "list"));
      }
    } catch (IOException e) {
      return "the bootloader's tool could not be run: " + e;
    }
    if (!theirs.equals(ours)) {
      return "the bootloader's tool reads " + theirs + " where the store reads " + ours;
    }
    // what RAUC's script boots from the tool's variables is what the store's status predicts
    SlotId script = scriptChoice(theirs);
    SlotId predicted = BootRules.boot(status).active();
    // the bootloader's last resort boots what it boots whatever the rules predict: checked apart
    // (IoFaultCampaign#LAST_RESORT)
    if (script != predicted && !bootsLastResort(medium)) {
      return "from the tool's variables " + theirs + " the bootloader boots " + script.label() + " but the status "
          + status + " predicts " + predicted.label();
    }
    // each trial's counter is the bootloader's
    RaucBootVariables.BootChoice choice = (kind == BootloaderSlotStore.Kind.UBOOT ? RaucBootVariables.UBOOT
        : RaucBootVariables.GRUB).read(theirs::get);
    for (SlotId id : SlotId.values()) {
      if (status.slot(id).state() == SlotState.TRIAL) {
        int left = choice.attemptsLeft(id);
        int attempts = kind == BootloaderSlotStore.Kind.UBOOT
            ? BootRules.MAX_TRIAL_BOOTS - Math.min(left, BootRules.MAX_TRIAL_BOOTS)
            : left > 0 ? 0 : BootRules.MAX_TRIAL_BOOTS;
        if (status.slot(id).attempts() != attempts) {
          return "trial " + id.label() + " shows " + status.slot(id).attempts() + " attempts but the bootloader's"
              + " variables " + theirs + " say " + attempts;
        }
      }
    }
    return null;
  }

  @Override
  public boolean bootsLastResort(CrashMedium medium) {
    if (kind == BootloaderSlotStore.Kind.UBOOT) {
      return RaucBootVariables.UBOOT.read(new UbootEnvironment(medium, FwEnvConfig.read(setup().environment())).read()
          .variables().asMap()::get).next().isEmpty();
    }
    return RaucBootVariables.GRUB.read(new GrubEnvironment(medium, GRUBENV).read().asMap()::get).next().isEmpty();
  }

  /** The slot RAUC's boot script takes, from the variables (what {@link TestBootloader} does, without writing). */
  SlotId scriptChoice(Map<String, String> v) {
    if (kind == BootloaderSlotStore.Kind.UBOOT) {
      String order = v.getOrDefault("BOOT_ORDER", "");
      List<String> names = Arrays.stream((order.isEmpty() ? "A B" : order).split(" "))
          .filter(n -> n.equals("A") || n.equals("B")).toList();
      for (String name : names) {
        String raw = v.get("BOOT_" + name + "_LEFT");
        long left = raw == null || raw.isEmpty() ? 3 : RaucBootVariables.strtoull(raw, 16);
        if (left > 0) {
          return name.equals("A") ? SlotId.A : SlotId.B;
        }
      }
      // no attempts left anywhere: the script gives both 3 and resets; the first of the order boots
      return names.isEmpty() || names.get(0).equals("A") ? SlotId.A : SlotId.B;
    }
    for (String name : v.getOrDefault("ORDER", "A B").split(" ")) {
      if ((name.equals("A") || name.equals("B")) && "1".equals(v.get(name + "_OK"))
          && "0".equals(v.getOrDefault(name + "_TRY", "0"))) {
        return name.equals("A") ? SlotId.A : SlotId.B;
      }
    }
    return "1".equals(v.getOrDefault("default", "0").strip()) ? SlotId.B : SlotId.A; // the default entry
  }

  private static String tool(Path dir, String... command) throws IOException {
    try {
      RealTools.Result r = RealTools.run(dir, command);
      if (r.exitCode() != 0) {
        throw new IOException(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.stderr().strip());
      }
      return r.stdout();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
