package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.SlotId;
import io.otaflux.spi.SlotStore;
import io.otaflux.storage.BootloaderSlotStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota boot}: what a boot script calls; prints the slot to boot and records the attempt. */
@Command(name = "boot", mixinStandardHelpOptions = true,
    description = "Print the slot to boot (a or b) and record the attempt; a trial boots at most 3 times unconfirmed.")
final class BootCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    SlotStore store = slots.open();
    if (store instanceof BootloaderSlotStore) {
      spec.commandLine().getOut().println("Nothing to do: with this store the bootloader ("
          + ((BootloaderSlotStore) store).setup().kind().label() + ") chooses the slot and counts the boots itself;"
          + " nothing was changed. After a healthy boot, run `ota mark-good --slots " + slots.dir + "`.");
      spec.commandLine().getOut().flush();
      return 0;
    }
    SlotId slot = store.boot().block(StatusCommand.WAIT);
    spec.commandLine().getOut().println(slot.label());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
