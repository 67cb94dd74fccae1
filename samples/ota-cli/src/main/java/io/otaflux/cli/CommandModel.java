package io.otaflux.cli;

import java.util.Arrays;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The picocli model for one run of {@code ota}: only the subcommand the arguments name is
 * inspected. Picocli builds a command's model by reflection over its fields and annotations, and
 * its classes are Java 5 class files that neither the class-data-sharing archive of JDK 17 nor
 * the split verifier can take; inspecting all twelve subcommands (and loading the types of their
 * options: transport, LwM2M, manifest) was about a third of {@code ota status}'s start-up
 * (benchmarks/RESULTS.md). {@link Ota}'s {@code @Command} annotation stays the one list of
 * subcommands; without a subcommand first ({@code ota --help}, {@code ota --version}, an unknown
 * word) the whole model is built, as before.
 */
final class CommandModel {

  private CommandModel() {
  }

  /** The command line for these arguments: the whole model, or {@code ota} with one subcommand. */
  static CommandLine forArguments(String... args) {
    Ota ota = new Ota();
    @Nullable Class<?> sub = args.length == 0 ? null : subcommand(args[0]);
    if (sub == null) {
      return new CommandLine(ota);
    }
    Command annotation = Ota.class.getAnnotation(Command.class);
    CommandSpec spec = CommandSpec.wrapWithoutInspection(ota);
    spec.name(annotation.name());
    spec.version(annotation.version());
    spec.usageMessage().description(annotation.description());
    spec.mixinStandardHelpOptions(annotation.mixinStandardHelpOptions());
    ota.spec = spec;
    CommandLine cli = new CommandLine(spec);
    cli.addSubcommand(args[0], new CommandLine(sub));
    return cli;
  }

  /** The subcommand class whose name (or alias) is {@code word}, or null. */
  static @Nullable Class<?> subcommand(String word) {
    for (Class<?> type : Ota.class.getAnnotation(Command.class).subcommands()) {
      Command command = type.getAnnotation(Command.class);
      if (command != null && (command.name().equals(word) || Arrays.asList(command.aliases()).contains(word))) {
        return type;
      }
    }
    return null;
  }
}
