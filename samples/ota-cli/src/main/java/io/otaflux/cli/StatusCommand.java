package io.otaflux.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;

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
    StoreStatus status = slots.open().status().block(WAIT);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(Json.line(Json.status(status)));
    } else {
      out.print(human(status));
    }
    out.flush();
    return 0;
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
