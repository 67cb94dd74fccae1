package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import io.otaflux.testkit.Fuzz;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class UnitsTest {

  @Test
  void readsTheUnitsPeopleType() {
    assertThat(Units.duration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Units.duration(" 500MS ")).isEqualTo(Duration.ofMillis(500));
    assertThat(Units.duration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Units.duration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Units.duration("45")).isEqualTo(Duration.ofSeconds(45));
    assertThat(Units.size("1048576")).isEqualTo(1048576L);
    assertThat(Units.size("512K")).isEqualTo(512L * 1024);
    assertThat(Units.size("64MiB")).isEqualTo(64L << 20);
    assertThat(Units.size("1g")).isEqualTo(1L << 30);
    assertThat(Units.size("2TB")).isEqualTo(2L << 40);
    assertThat(Units.size("7B")).isEqualTo(7L);
  }

  @Test
  void hugeNumbersAreRefusedWithASentenceInsteadOfAnArithmeticCrash() {
    assertThatThrownBy(() -> Units.size("9223372036854775807T")).isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("larger than any device");
    assertThatThrownBy(() -> Units.size("99999999999999999999")).isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("is not a size");
    assertThatThrownBy(() -> Units.duration("9223372036854775807h"))
        .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("longer than a century");
    assertThatThrownBy(() -> Units.duration("99999999999999999999s"))
        .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("is not a duration");
    assertThatThrownBy(() -> Units.size("12XB")).isInstanceOf(CommandLine.TypeConversionException.class);
  }

  @Test
  void sizesAndDurationsEndInAValueOrASentence() {
    List<String> tokens = List.of("K", "M", "G", "T", "B", "iB", "ms", "s", "m", "h", "0", "9", "-", "+", ".", " ",
        "9223372036854775807", "\u0660", "\uff11");
    Fuzz.Summary sizes = Fuzz.check("--size / --slot-size", List.of("1048576", "512K", "64M", "1G", "3TiB", "10KB"),
        tokens, input -> assertThat(Units.size(input)).isNotNegative(), CommandLine.TypeConversionException.class);
    Fuzz.Summary durations = Fuzz.check("--timeout", List.of("30s", "500ms", "2m", "1h", "45"), tokens,
        input -> assertThat(Units.duration(input).isNegative()).isFalse(), CommandLine.TypeConversionException.class);
    assertThat(sizes.accepted()).isPositive();
    assertThat(durations.accepted()).isPositive();
  }
}
