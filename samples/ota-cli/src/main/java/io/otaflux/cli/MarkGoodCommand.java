package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.StoreStatus;
import io.otaflux.spi.SlotStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota mark-good}: confirms the running trial slot. */
@Command(name = "mark-good", mixinStandardHelpOptions = true,
    description = "Confirm the running trial slot: it becomes good and stays the boot choice.")
final class MarkGoodCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    SlotStore store = slots.open();
    store.markGood().block(StatusCommand.WAIT);
    StoreStatus status = store.status().block(StatusCommand.WAIT);
    spec.commandLine().getOut().println("Slot " + status.active().label() + " is good and boots next.");
    spec.commandLine().getOut().flush();
    return 0;
  }
}
