package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.OtaException;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/cli.md, the command reference, against the command's own model (what {@code --help}
 * prints): every option the command accepts is documented under its command, every documented
 * option exists, and every failure detail is listed with its exit code.
 */
class CliReferenceTest {

  /**
   * Options the contract documents that the command does not have yet, by command. Each is
   * being added on another branch; the lead removes it from here when it merges that branch (the
   * test fails as soon as the command has the option, saying so).
   */
  private static final Map<String, Set<String>> NOT_YET_IMPLEMENTED = Map.of();

  private static final Pattern SECTION = Pattern.compile("^## (ota(?: [a-z][a-z-]*)*)\\s*$");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");
  private static final Pattern DETAIL_ROW = Pattern.compile("^\\| `([A-Z_]+)` \\| (\\d+) \\|");

  private static Path reference() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("docs/cli.md"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("docs/cli.md in the repository").isNotNull();
    return dir.resolve("docs/cli.md");
  }

  /** Documented option names by command: the first cell of each table row of a command's section. */
  private static Map<String, Set<String>> documented() throws IOException {
    Map<String, Set<String>> options = new LinkedHashMap<>();
    Set<String> current = null;
    for (String line : Files.readAllLines(reference())) {
      Matcher section = SECTION.matcher(line);
      if (section.matches()) {
        current = options.computeIfAbsent(section.group(1), k -> new TreeSet<>());
      } else if (line.startsWith("## ")) {
        current = null;
      } else if (current != null && line.startsWith("| `-")) {
        String firstCell = line.substring(2, line.indexOf(" | ", 2));
        Matcher code = CODE.matcher(firstCell);
        while (code.find()) {
          String name = code.group(1).split(" ")[0];
          if (name.startsWith("-")) {
            current.add(name);
          }
        }
      }
    }
    return options;
  }

  /** Every command of the model: qualified name to its commands' specs. */
  private static Map<String, CommandSpec> commands() {
    Map<String, CommandSpec> all = new LinkedHashMap<>();
    List<CommandSpec> todo = new ArrayList<>(List.of(new CommandLine(new Ota()).getCommandSpec()));
    while (!todo.isEmpty()) {
      CommandSpec spec = todo.remove(0);
      all.put(spec.qualifiedName(), spec);
      spec.subcommands().values().forEach(sub -> todo.add(sub.getCommandSpec()));
    }
    return all;
  }

  /** The options a reader must find documented: all but the standard -h/--help and -V/--version. */
  private static Set<String> ownOptions(CommandSpec spec) {
    Set<String> names = new TreeSet<>();
    for (OptionSpec option : spec.options()) {
      if (!option.usageHelp() && !option.versionHelp()) {
        names.addAll(List.of(option.names()));
      }
    }
    return names;
  }

  private static Set<String> allOptions(CommandSpec spec) {
    Set<String> names = new TreeSet<>();
    spec.options().forEach(option -> names.addAll(List.of(option.names())));
    return names;
  }

  @Test
  void everyOptionOfEveryCommandIsDocumentedUnderThatCommand() throws IOException {
    Map<String, Set<String>> documented = documented();
    for (Map.Entry<String, CommandSpec> command : commands().entrySet()) {
      Set<String> own = ownOptions(command.getValue());
      if (own.isEmpty()) {
        continue; // `ota manifest` only groups `manifest create`
      }
      assertThat(documented).as("docs/cli.md has a section `## %s`", command.getKey()).containsKey(command.getKey());
      assertThat(documented.get(command.getKey())).as("options of %s documented in docs/cli.md", command.getKey())
          .containsAll(own);
    }
  }

  @Test
  void everyDocumentedOptionExistsOrIsListedAsNotYetImplemented() throws IOException {
    Map<String, CommandSpec> commands = commands();
    for (Map.Entry<String, Set<String>> section : documented().entrySet()) {
      assertThat(commands).as("docs/cli.md documents a command ota has: %s", section.getKey())
          .containsKey(section.getKey());
      Set<String> real = allOptions(commands.get(section.getKey()));
      Set<String> pending = NOT_YET_IMPLEMENTED.getOrDefault(section.getKey(), Set.of());
      for (String option : section.getValue()) {
        if (pending.contains(option)) {
          assertThat(real).as("%s %s exists now: remove it from CliReferenceTest.NOT_YET_IMPLEMENTED",
              section.getKey(), option).doesNotContain(option);
        } else {
          assertThat(real).as("%s %s, documented in docs/cli.md", section.getKey(), option).contains(option);
        }
      }
    }
    NOT_YET_IMPLEMENTED.forEach((command, options) -> assertThat(documentedOrEmpty(command)).as(
        "the not-yet-implemented options of %s are documented", command).containsAll(options));
  }

  private static Set<String> documentedOrEmpty(String command) {
    try {
      return documented().getOrDefault(command, Set.of());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void everyFailureDetailIsListedWithItsExitCodeAndNothingElseIs() throws IOException {
    Map<String, Integer> rows = new LinkedHashMap<>();
    for (String line : Files.readAllLines(reference())) {
      Matcher row = DETAIL_ROW.matcher(line);
      if (row.find()) {
        rows.put(row.group(1), Integer.valueOf(row.group(2)));
      }
    }
    Map<String, Integer> details = new LinkedHashMap<>();
    for (OtaException.Detail detail : OtaException.Detail.values()) {
      details.put(detail.name(), detail.reason().exitCode());
    }
    assertThat(rows).isEqualTo(details);
  }

  @Test
  void everyExitCodeIsExplained() throws IOException {
    String text = Files.readString(reference());
    for (OtaException.Reason reason : OtaException.Reason.values()) {
      assertThat(text).containsPattern("(?m)^\\| " + reason.exitCode() + " \\| " + Ota.lower(reason) + ": ");
    }
    assertThat(text).containsPattern("(?m)^\\| 0 \\| success").containsPattern("(?m)^\\| 1 \\| ");
  }

  @Test
  void theParserFindsOptionsInTheTablesItReads() throws IOException {
    // the comparisons above would pass vacuously on a page the parser cannot read
    Map<String, Set<String>> documented = documented();
    assertThat(documented.get("ota update")).contains("--slots", "--root-cert", "--pin", "--web-ui");
    assertThat(documented.get("ota agent")).contains("--psk-identity", "--psk-key-file", "--timeout", "--retries");
    assertThat(documented.get("ota get-cert")).contains("--format");
    assertThat(documented.get("ota")).contains("-h", "--help", "-V", "--version");
  }
}
