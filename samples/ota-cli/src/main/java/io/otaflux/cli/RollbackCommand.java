package io.otaflux.cli;

import io.otaflux.SlotId;
import io.otaflux.spi.SlotStore;

import picocli.CommandLine.Command;

/** {@code ota rollback}: the other good slot becomes the boot choice again. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Make the other good slot the boot choice again, now.")
final class RollbackCommand extends SlotStoreCommand {

  @Override
  String step(SlotStore store) {
    SlotId next = store.rollback().block(StatusCommand.WAIT);
    return "Rolled back: slot " + next.label() + " boots next.";
  }
}
