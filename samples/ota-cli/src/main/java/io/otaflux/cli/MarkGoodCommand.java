package io.otaflux.cli;

import io.otaflux.StoreStatus;
import io.otaflux.spi.SlotStore;

import picocli.CommandLine.Command;

/** {@code ota mark-good}: confirms the running trial slot. */
@Command(name = "mark-good", mixinStandardHelpOptions = true,
    description = "Confirm the running trial slot: it becomes good and stays the boot choice.")
final class MarkGoodCommand extends SlotStoreCommand {

  @Override
  String step(SlotStore store) {
    store.markGood().block(StatusCommand.WAIT);
    StoreStatus status = store.status().block(StatusCommand.WAIT);
    return "Slot " + status.active().label() + " is good and boots next.";
  }
}
