package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.SlotId;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota rollback}: the other good slot becomes the boot choice again. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Make the other good slot the boot choice again, now.")
final class RollbackCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    SlotId next = slots.open().rollback().block(StatusCommand.WAIT);
    spec.commandLine().getOut().println("Rolled back: slot " + next.label() + " boots next.");
    spec.commandLine().getOut().flush();
    return 0;
  }
}
