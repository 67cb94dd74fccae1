package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

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
        Case c = m.getAnnotation(Case.class);
        if (c == null) {
          continue;
        }
        DisplayName name = m.getAnnotation(DisplayName.class);
        assertThat(name).as("@DisplayName on %s.%s", type.getSimpleName(), m.getName()).isNotNull();
        assertThat(m.getAnnotation(org.junit.jupiter.api.Test.class)).as("@Test on %s", m.getName()).isNotNull();
        assertThat(m.getAnnotation(org.junit.jupiter.api.Disabled.class)).as("%s is not disabled", m.getName()).isNull();
        assertThat(CATEGORIES).as("category of %s", m.getName()).contains(c.category());
        for (String text : List.of(name.value(), c.fault(), c.outcome())) {
          assertThat(text).as("table cell").doesNotContain("|").doesNotContain("\n");
        }
        rows.add(new Row(c.category(), name.value(), c.fault(), c.outcome()));
      }
    }
    rows.sort(Comparator.comparing((Row r) -> CATEGORIES.indexOf(r.category())).thenComparing(Row::name));
    return rows;
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
