package io.otaflux.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.otaflux.OtaException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SemanticVersionTest {

  private static SemanticVersion v(String text) {
    return SemanticVersion.parse(text);
  }

  @Test
  void followsThePrecedenceChainOfTheSemVerSpecification() {
    List<String> ascending = List.of("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.9.0", "1.10.0", "2.0.0-rc.1",
        "2.0.0", "10.0.0");
    for (int i = 0; i + 1 < ascending.size(); i++) {
      SemanticVersion lower = v(ascending.get(i));
      SemanticVersion higher = v(ascending.get(i + 1));
      assertThat(higher.isNewerThan(lower)).as(higher + " > " + lower).isTrue();
      assertThat(lower.isNewerThan(higher)).as(lower + " < " + higher).isFalse();
    }
  }

  @Test
  void comparesNumbersNumericallyNotAsText() {
    assertThat(v("1.10.0").isNewerThan(v("1.9.0"))).isTrue();
    assertThat(v("1.0.0-rc.10").isNewerThan(v("1.0.0-rc.9"))).isTrue();
    assertThat(v("1.0.0-10").isNewerThan(v("1.0.0-9"))).isTrue();
    assertThat(v("1.0.0-a").isNewerThan(v("1.0.0-999"))).as("alphanumeric above numeric").isTrue();
    assertThat(v("1.0.123456789012345678901234567890").isNewerThan(v("1.0.99999999999999999999"))).isTrue();
  }

  @Test
  void aPreReleaseIsLowerThanItsRelease() {
    assertThat(v("2.0.0-rc.1").compareTo(v("2.0.0"))).isNegative();
    assertThat(v("2.0.0-rc.1").isPreRelease()).isTrue();
    assertThat(v("2.0.0").isPreRelease()).isFalse();
  }

  @Test
  void ignoresBuildMetadataForPrecedenceButNotForEquality() {
    SemanticVersion a = v("1.0.0+build.1");
    SemanticVersion b = v("1.0.0+build.2");
    assertThat(a.compareTo(b)).isZero();
    assertThat(a.compareTo(v("1.0.0"))).isZero();
    assertThat(a).isNotEqualTo(b);
    assertThat(a).isEqualTo(v("1.0.0+build.1"));
    assertThat(a.build()).contains("build.1");
    assertThat(v("1.0.0-rc.1+x").compareTo(v("1.0.0-rc.1"))).isZero();
  }

  @Test
  void keepsTheTextAsWritten() {
    assertThat(v("1.2.3-rc.1+exp.sha.5114f85")).hasToString("1.2.3-rc.1+exp.sha.5114f85");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1", "1.0", "v1.0.0", "01.0.0", "1.00.0", "1.0.0-01", "1.0.0-", "1.0.0+", " 1.0.0",
      "1.0.0 ", "1.0.0-a..b", "1.0.0+a..b", "1.0.0-rc_1", "1.0.0.0", "-1.0.0", "１.0.0", "1.0.0-a+b+c", "1.0.0-é", "1.0.0+é", "1..0", "1.0.0-.a", "1.0.0-a."})
  void refusesTextThatIsNotASemanticVersion(String text) {
    assertThatThrownBy(() -> SemanticVersion.parse(text))
        .isInstanceOf(OtaException.class)
        .satisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.USAGE))
        .hasMessageContaining("not a semantic version");
  }

  @Test
  void refusesVersionsLongerThan256CharactersQuickly() {
    String longest = "1.0.0-" + "a".repeat(250);
    assertThat(v(longest)).hasToString(longest);
    for (String hostile : new String[] {"1.0.0-" + "a.".repeat(30000) + "!", "1.0.0-" + "1".repeat(60000) + "!",
        longest + "b"}) {
      assertThatThrownBy(() -> SemanticVersion.parse(hostile))
          .isInstanceOf(OtaException.class)
          .hasMessageContaining("at most 256 characters");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0", "1.0.0-0", "1.0.0-0a", "1.0.0-x-y-z.--", "1.0.0+001", "1.0.0-alpha+001", "1.0.0-rc-1", "1.0.0---", "1.0.0-a-.b+-",
      "99999999999999999999.0.0"})
  void acceptsEveryFormTheSpecificationAllows(String text) {
    assertThat(v(text)).hasToString(text);
  }
}
