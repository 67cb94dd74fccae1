package io.otaflux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * A build check over every module's main code: no decision is taken from an exception's message
 * or stack trace. Failures are told apart by {@link OtaException#detail()} and by exception types;
 * sentences are for people and may change wording at any time (issue: "Failures are classified by
 * reading sentences"). A line that only picks the part of a message to show a person says so in a
 * {@code // display only} comment on the line above.
 */
class NoDecisionFromMessagesTest {

  /** Tests of a text: what a decision on a message looks like. */
  private static final String TEST_OF_TEXT =
      "\\.(contains|startsWith|endsWith|matches|equals|equalsIgnoreCase|indexOf|lastIndexOf|regionMatches)\\s*\\(";

  private static final Pattern MESSAGE_TESTED = Pattern.compile(
      "get(Localized)?Message\\(\\)\\)?(\\.toLowerCase\\([^)]*\\)|\\.strip\\(\\)|\\.trim\\(\\))*" + TEST_OF_TEXT);

  private static final Pattern ASSIGNED = Pattern.compile("(?:String|var)\\s+(\\w+)\\s*=\\s*([^;]*)");

  private static final Pattern MESSAGE_ASSIGNED = Pattern.compile(
      "(?:String|var)\\s+(\\w+)\\s*=\\s*[^;]*get(?:Localized)?Message\\(\\)");

  /** A method that hands a message on: {@code return e.getMessage() == null ? ... : e.getMessage();}. */
  private static final Pattern MESSAGE_RETURNED = Pattern.compile("return\\s[^;]*get(?:Localized)?Message\\(\\)");

  private static final Pattern METHOD_NAME = Pattern.compile("\\s(\\w+)\\s*\\([^)]*\\)\\s*(throws [\\w., ]+)?\\{\\s*$");

  private static final Set<String> KEYWORDS = Set.of("if", "for", "while", "switch", "catch", "synchronized", "try");

  /** Rendering, not deciding: a sentence's final stop is dropped before more is added. */
  private static final Pattern RENDERING = Pattern.compile("\\.endsWith\\(\"\\.\"\\)");

  /**
   * The test kit's main code is test code for users: its assertions check the sentence a person
   * reads (its wording is the kit's contract), they take no decision.
   */
  private static final Pattern KIT_ASSERTION = Pattern.compile("^\\s*assertThat\\(");

  private static final Pattern STACK_TRACE_READ = Pattern.compile("getStackTrace\\(\\)\\s*(\\[|\\)\\s*\\.|\\.)");

  @Test
  void noMainCodeDecidesAnythingFromAnExceptionsMessageOrStackTrace() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(root)) {
      sources = files.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> p.toString().contains("/src/main/java/"))
          .filter(p -> !p.toString().contains("/target/"))
          .collect(Collectors.toList());
    }
    assertThat(sources).as("main sources under " + root).hasSizeGreaterThan(50);
    Path kit = root.resolve("testkit/src/main/java");
    assertThat(sources).as("the test kit's main code is scanned too").anyMatch(p -> p.startsWith(kit));

    List<String> offences = new ArrayList<>();
    for (Path file : sources) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      Set<String> messageMethods = new LinkedHashSet<>();
      String method = null;
      for (String line : lines) {
        Matcher name = METHOD_NAME.matcher(line);
        if (name.find() && !KEYWORDS.contains(name.group(1))) {
          method = name.group(1);
        }
        if (method != null && MESSAGE_RETURNED.matcher(line).find()) {
          messageMethods.add(method);
        }
      }
      Set<String> messageVariables = new LinkedHashSet<>();
      boolean grew = true;
      while (grew) {
        grew = false;
        for (String line : lines) {
          Matcher m = ASSIGNED.matcher(line);
          if (!m.find() || messageVariables.contains(m.group(1))) {
            continue;
          }
          String value = m.group(2);
          boolean fromMessage = MESSAGE_ASSIGNED.matcher(line).find();
          for (String source : messageVariables) {
            fromMessage |= Pattern.compile("\\b" + source + "\\b").matcher(value).find();
          }
          for (String source : messageMethods) {
            fromMessage |= Pattern.compile("\\b" + source + "\\(").matcher(value).find();
          }
          if (fromMessage) {
            grew |= messageVariables.add(m.group(1));
          }
        }
      }
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        boolean offends = MESSAGE_TESTED.matcher(line).find() || STACK_TRACE_READ.matcher(line).find();
        for (String v : messageVariables) {
          offends |= Pattern.compile("\\b" + v + "(\\.toLowerCase\\([^)]*\\))?" + TEST_OF_TEXT).matcher(line).find();
        }
        boolean displayOnly = i > 0 && lines.get(i - 1).contains("// display only");
        boolean kitAssertion = file.startsWith(kit) && KIT_ASSERTION.matcher(line).find();
        if (offends && !RENDERING.matcher(line).find() && !displayOnly && !kitAssertion) {
          offences.add(root.relativize(file) + ":" + (i + 1) + ": " + line.strip());
        }
      }
    }
    assertThat(offences).as("decisions taken from an exception's message or stack trace").isEmpty();
  }
}
