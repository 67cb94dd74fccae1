package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The README's "Reliability" table is the matrix: one row per {@link Case}, in the same words.
 * A case added, renamed or removed without the README (or the reverse) fails here; the
 * expected table is written to {@code target/reliability-table.md} to paste.
 */
class ReadmeMatrixTest {

  /** Every class holding matrix cases. */
  static final List<Class<?>> MATRIX = List.of(TrustMatrixTest.class, RedirectMatrixTest.class,
      ProtocolMatrixTest.class, IntegrityMatrixTest.class, StorageMatrixTest.class, ResourceMatrixTest.class,
      LoadTest.class, CliFaultsIT.class, BootRulesMatrixTest.class, StreamSafetyMatrixTest.class,
      CliStreamSafetyIT.class);
  static final List<String> CATEGORIES = List.of("trust", "redirects", "protocol", "integrity", "storage",
      "resources", "load");
  static final String HEADER = "| category | case | fault | outcome |";

  record Row(String category, String name, String fault, String outcome) {
    String line() {
      return "| " + category + " | " + name + " | " + fault + " | " + outcome + " |";
    }
  }

  static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (Class<?> type : MATRIX) {
      for (Method m : type.getDeclaredMethods()) {
        Case[] cases = m.getAnnotationsByType(Case.class);
        if (cases.length == 0) {
          continue;
        }
        assertThat(m.getAnnotation(org.junit.jupiter.api.Disabled.class)).as("%s is not disabled", m.getName()).isNull();
        List<String> names = caseNames(type, m);
        assertThat(Arrays.stream(cases).map(Case::name).toList()).as("@Case names on %s", m.getName())
            .containsExactlyElementsOf(m.getAnnotation(ParameterizedTest.class) == null ? List.of("") : names);
        for (int i = 0; i < cases.length; i++) {
          Case c = cases[i];
          assertThat(CATEGORIES).as("category of %s", m.getName()).contains(c.category());
          for (String text : List.of(names.get(i), c.fault(), c.outcome())) {
            assertThat(text).as("table cell").doesNotContain("|").doesNotContain("\n");
          }
          rows.add(new Row(c.category(), names.get(i), c.fault(), c.outcome()));
        }
      }
    }
    rows.sort(Comparator.comparing((Row r) -> CATEGORIES.indexOf(r.category())).thenComparing(Row::name));
    return rows;
  }

  /**
   * The names a matrix method's cases have in the test report: its {@code @DisplayName} for a
   * {@code @Test}; for a {@code @ParameterizedTest}, the first argument of each row of its method
   * source (the static method of the same name), which is also the invocation's name.
   */
  static List<String> caseNames(Class<?> type, Method m) {
    ParameterizedTest parameterized = m.getAnnotation(ParameterizedTest.class);
    if (parameterized == null) {
      DisplayName name = m.getAnnotation(DisplayName.class);
      assertThat(name).as("@DisplayName on %s.%s", type.getSimpleName(), m.getName()).isNotNull();
      assertThat(m.getAnnotation(Test.class)).as("@Test on %s", m.getName()).isNotNull();
      return List.of(name.value());
    }
    assertThat(parameterized.name()).as("invocations of %s are named by their row", m.getName()).isEqualTo("{0}");
    MethodSource source = m.getAnnotation(MethodSource.class);
    assertThat(source).as("@MethodSource on %s", m.getName()).isNotNull();
    assertThat(String.join("", source.value())).as("the method source of %s has its name", m.getName()).isEmpty();
    try {
      Method factory = type.getDeclaredMethod(m.getName());
      factory.setAccessible(true);
      try (Stream<?> rows = (Stream<?>) factory.invoke(null)) {
        return rows.map(row -> ((Arguments) row).get()[0].toString()).toList();
      }
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the rows of " + m.getName(), e);
    }
  }

  static List<String> readmeTable(Path readme) throws IOException {
    List<String> lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
    int section = lines.indexOf("## Reliability");
    assertThat(section).as("a \"## Reliability\" section in " + readme).isNotNegative();
    int header = lines.subList(section, lines.size()).indexOf(HEADER);
    assertThat(header).as("the matrix table header " + HEADER).isNotNegative();
    List<String> table = new ArrayList<>();
    for (int i = section + header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
      table.add(lines.get(i));
    }
    return table;
  }

  @Test
  void theReadmeListsExactlyTheMatrixCases() throws IOException {
    List<Row> rows = rows();
    List<String> expected = rows.stream().map(Row::line).toList();
    Path out = Path.of("target", "reliability-table.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, HEADER + "\n| --- | --- | --- | --- |\n" + String.join("\n", expected) + "\n");
    Path readme = Path.of(System.getProperty("readme", "../../README.md"));
    assertThat(readmeTable(readme)).as("README table vs the cases (expected table in %s)", out.toAbsolutePath())
        .containsExactlyElementsOf(expected);
  }

  @Test
  void theMatrixHasAtLeastFortyNamedCasesInEveryCategory() {
    List<Row> rows = rows();
    assertThat(rows).hasSizeGreaterThanOrEqualTo(40);
    assertThat(rows.stream().map(Row::name).distinct().count()).as("case names are unique").isEqualTo(rows.size());
    for (String category : CATEGORIES) {
      assertThat(rows).as(category).anySatisfy(r -> assertThat(r.category()).isEqualTo(category));
    }
  }
}
