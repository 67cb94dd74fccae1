package io.otaflux.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.SlotStore;
import io.otaflux.storage.BootloaderSlotStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota status}: both slots and the boot choice. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show both slots and the boot choice.")
final class StatusCommand implements Callable<Integer> {

  static final Duration WAIT = Duration.ofMinutes(1);

  @Mixin
  SlotsOption slots;

  @Option(names = "--json", description = "One JSON object on stdout.")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    SlotStore store = slots.open();
    StoreStatus status = store.status().block(WAIT);
    BootloaderSlotStore.BootloaderStatus boot = store instanceof BootloaderSlotStore
        ? ((BootloaderSlotStore) store).bootloaderStatus().block(WAIT) : null;
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> object = Json.status(status);
      if (boot != null) {
        object.put("bootloader", Json.bootloader(boot));
      }
      out.println(Json.line(object));
    } else {
      out.print(human(status));
      if (boot != null) {
        out.print(human(boot));
      }
    }
    out.flush();
    return 0;
  }

  static String human(BootloaderSlotStore.BootloaderStatus boot) {
    StringBuilder text = new StringBuilder();
    text.append("bootloader: ").append(boot.environment()).append('\n');
    text.append("  order ").append(boot.order().isEmpty() ? "(none)" : String.join(" ",
        boot.order().stream().map(SlotId::label).toList()));
    text.append(", attempts left: a ").append(boot.attemptsLeftA()).append(", b ").append(boot.attemptsLeftB());
    SlotId next = boot.next();
    text.append(", boots next: ").append(next == null ? "no slot has attempts left; "
        + (boot.kind() == BootloaderSlotStore.Kind.UBOOT ? "U-Boot gives both 3 again and boots the first of the order"
        : "GRUB boots its default entry") : "slot " + next.label()).append('\n');
    if (boot.fallingBack() && !boot.order().isEmpty()) {
      text.append("  slot ").append(boot.order().get(0).label()).append(" has no attempts left: the bootloader falls"
          + " back (or fell back) from it\n");
    }
    if (!boot.powerSafe()) {
      text.append("  warning: one copy of the environment: a write is not power-safe\n");
    }
    return text.toString();
  }

  static String human(StoreStatus status) {
    StringBuilder text = new StringBuilder();
    text.append("running: slot ").append(status.active().label())
        .append("    next boot: slot ").append(status.next().label()).append('\n');
    for (SlotId id : SlotId.values()) {
      SlotStatus slot = status.slot(id);
      text.append("slot ").append(id.label()).append(": ").append(slot.state().label());
      if (slot.state() != SlotState.EMPTY) {
        text.append(", ").append(Units.human(slot.size()));
      }
      if (slot.version() != null) {
        text.append(", version ").append(slot.version());
      }
      if (slot.state() == SlotState.TRIAL) {
        text.append(", ").append(slot.attempts()).append(" of 3 unconfirmed boots");
      }
      text.append(" (capacity ").append(Units.human(slot.capacity())).append(")\n");
      if (slot.sha256() != null) {
        text.append("        sha256 ").append(slot.sha256().hex()).append('\n');
      }
    }
    return text.toString();
  }
}
