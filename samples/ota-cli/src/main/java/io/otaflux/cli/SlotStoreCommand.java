package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.spi.SlotStore;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The shape of {@code boot}, {@code mark-good} and {@code rollback}: one step on the store, one line out, exit 0. */
abstract class SlotStoreCommand implements Callable<Integer> {

  @Mixin
  SlotsOption slots;

  @Spec
  CommandSpec spec;

  /** Takes the step on the opened store; returns the line to print. */
  abstract String step(SlotStore store);

  @Override
  public final Integer call() {
    spec.commandLine().getOut().println(step(slots.open()));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
