package io.otaflux.cli;

import io.otaflux.spi.SlotStore;
import io.otaflux.storage.BootloaderSlotStore;

import picocli.CommandLine.Command;

/** {@code ota boot}: what a boot script calls; prints the slot to boot and records the attempt. */
@Command(name = "boot", mixinStandardHelpOptions = true,
    description = "Print the slot to boot (a or b) and record the attempt; a trial boots at most 3 times unconfirmed.")
final class BootCommand extends SlotStoreCommand {

  @Override
  String step(SlotStore store) {
    if (store instanceof BootloaderSlotStore bootloader) {
      return "Nothing to do: with this store the bootloader (" + bootloader.setup().kind().label()
          + ") chooses the slot and counts the boots itself; nothing was changed. After a healthy boot, run"
          + " `ota mark-good --slots " + slots.dir + "`.";
    }
    return store.boot().block(StatusCommand.WAIT).label();
  }
}
