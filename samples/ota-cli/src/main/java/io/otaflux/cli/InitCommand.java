package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.storage.FileSlotStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota init}: creates a file-backed slot store. */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Create a slot store: slot a good (the factory image), slot b empty. Refuses a DIR that holds"
        + " a store unless --force is given.")
final class InitCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Option(names = "--slot-size", paramLabel = "SIZE", defaultValue = "1G", converter = Units.SizeConverter.class,
      description = "Capacity of each slot; K, M, G suffixes are powers of 1024 (default: ${DEFAULT-VALUE}).")
  long slotSize;

  @Option(names = "--force",
      description = "Re-create the store even if DIR holds one (valid or damaged): destroys both slots' images,"
          + " the confirmed one too, and the boot state.")
  boolean force;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    FileSlotStore store = force ? FileSlotStore.recreate(slots.dir, slotSize) : FileSlotStore.init(slots.dir, slotSize);
    spec.commandLine().getOut().println("Initialised the slot store in " + slots.dir + ": two slots of "
        + Units.human(store.capacity()) + "; slot a is good and boots, slot b is empty.");
    return 0;
  }
}
