package io.otaflux.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.storage.BootloaderSlotStore;
import io.otaflux.storage.FileSlotStore;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota init}: creates a file-backed slot store, or one whose boot choice lives in the bootloader. */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Create a slot store: slot a good (the factory image), slot b empty. Refuses a DIR that holds"
        + " a store unless --force is given. With --bootloader, the slots are partitions (or files), the boot"
        + " choice lives in the bootloader's environment (RAUC's variables) and DIR keeps the metadata.")
final class InitCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Option(names = "--slot-size", paramLabel = "SIZE", converter = Units.SizeConverter.class,
      description = "Capacity of each slot; K, M, G suffixes are powers of 1024 (default: 1G; with --bootloader,"
          + " the size of the smaller slot).")
  @Nullable Long slotSize;

  @Option(names = "--force",
      description = "Re-create the store even if DIR holds one (valid or damaged): destroys both slots' images,"
          + " the confirmed one too, and the boot state.")
  boolean force;

  @Option(names = "--bootloader", paramLabel = "uboot|grub",
      description = "Hand the boot choice to the bootloader: uboot (BOOT_ORDER, BOOT_A_LEFT, BOOT_B_LEFT) or grub"
          + " (ORDER, A_OK, B_OK, A_TRY, B_TRY), as RAUC's boot scripts use them.")
  @Nullable String bootloader;

  @Option(names = "--fw-env-config", paramLabel = "FILE",
      description = "U-Boot: the libubootenv fw_env.config locating the environment (default: /etc/fw_env.config).")
  @Nullable Path fwEnvConfig;

  @Option(names = "--grubenv", paramLabel = "FILE",
      description = "GRUB: the environment block (default: /boot/grub/grubenv).")
  @Nullable Path grubenv;

  @Option(names = "--slot-a", paramLabel = "PATH", description = "With --bootloader: slot a (RAUC's A), a partition or file.")
  @Nullable Path slotA;

  @Option(names = "--slot-b", paramLabel = "PATH", description = "With --bootloader: slot b (RAUC's B), a partition or file.")
  @Nullable Path slotB;

  @Option(names = "--cmdline", paramLabel = "FILE",
      description = "With --bootloader: the kernel command line naming the running slot (rauc.slot=A|B or"
          + " otaflux.slot=a|b); default /proc/cmdline.")
  @Nullable Path cmdline;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (bootloader != null) {
      return bootloaderStore(bootloader);
    }
    if (fwEnvConfig != null || grubenv != null || slotA != null || slotB != null || cmdline != null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "--fw-env-config, --grubenv, --slot-a, --slot-b and --cmdline"
          + " go with --bootloader uboot|grub. Nothing was written.");
    }
    long size = slotSize == null ? FileSlotStore.DEFAULT_SLOT_SIZE : slotSize;
    FileSlotStore store = force ? FileSlotStore.recreate(slots.dir, size) : FileSlotStore.init(slots.dir, size);
    spec.commandLine().getOut().println("Initialised the slot store in " + slots.dir + ": two slots of "
        + Units.human(store.capacity()) + "; slot a is good and boots, slot b is empty.");
    return 0;
  }

  private int bootloaderStore(String kind) {
    if (slotA == null || slotB == null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "--bootloader needs the two slots: --slot-a PATH --slot-b PATH"
          + " (partitions such as /dev/mmcblk0p2, or files). Nothing was written.");
    }
    BootloaderSlotStore.Setup setup;
    switch (kind) {
      case "uboot":
        if (grubenv != null) {
          throw OtaException.of(Detail.INVALID_REQUEST, "--grubenv goes with --bootloader grub; U-Boot takes"
              + " --fw-env-config FILE. Nothing was written.");
        }
        setup = BootloaderSlotStore.Setup.uboot(fwEnvConfig != null ? fwEnvConfig : Path.of("/etc/fw_env.config"),
            slotA, slotB);
        break;
      case "grub":
        if (fwEnvConfig != null) {
          throw OtaException.of(Detail.INVALID_REQUEST, "--fw-env-config goes with --bootloader uboot; GRUB takes"
              + " --grubenv FILE. Nothing was written.");
        }
        setup = BootloaderSlotStore.Setup.grub(grubenv != null ? grubenv : Path.of("/boot/grub/grubenv"), slotA,
            slotB);
        break;
      default:
        throw OtaException.of(Detail.INVALID_REQUEST, "--bootloader is uboot or grub, not \"" + kind + "\"."
            + " Nothing was written.");
    }
    if (cmdline != null) {
      setup = setup.withCmdline(cmdline);
    }
    if (slotSize != null) {
      setup = setup.withCapacity(slotSize);
    }
    BootloaderSlotStore store = force ? BootloaderSlotStore.recreate(slots.dir, setup)
        : BootloaderSlotStore.init(slots.dir, setup);
    StoreStatus status = store.status().block(StatusCommand.WAIT);
    SlotId running = status == null ? SlotId.A : status.active();
    BootloaderSlotStore.BootloaderStatus boot = store.bootloaderStatus().block(StatusCommand.WAIT);
    spec.commandLine().getOut().println("Initialised a " + (kind.equals("uboot") ? "U-Boot" : "GRUB") + " slot store"
        + " in " + slots.dir + ": slot a is " + slotA + ", slot b is " + slotB + " (" + Units.human(store.capacity())
        + " each); slot " + running.label() + " is running, good and boots next; the other holds nothing yet. The"
        + " bootloader counts boots: confirm every healthy boot with `ota mark-good --slots " + slots.dir + "`.");
    if (boot != null && !boot.powerSafe()) {
      spec.commandLine().getOut().println("warning: " + boot.environment() + ": a power cut during an environment"
          + " write can leave U-Boot with its default environment; add a second line to the fw_env.config for a"
          + " redundant copy.");
    }
    return 0;
  }
}
