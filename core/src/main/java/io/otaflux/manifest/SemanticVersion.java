package io.otaflux.manifest;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.otaflux.OtaException;

import org.jspecify.annotations.Nullable;

/**
 * A version as defined by <a href="https://semver.org/spec/v2.0.0.html">Semantic Versioning
 * 2.0.0</a>: {@code MAJOR.MINOR.PATCH}, an optional pre-release ({@code -rc.1}) and optional
 * build metadata ({@code +build.5}).
 *
 * <p>{@link #compareTo} is SemVer <b>precedence</b>: numbers compare numerically
 * ({@code 1.10.0 > 1.9.0}), a pre-release is lower than its release ({@code 2.0.0-rc.1 < 2.0.0}),
 * pre-release identifiers compare numerically when numeric, in ASCII order otherwise, numeric
 * below alphanumeric, and a longer list above its prefix; build metadata is ignored. So
 * {@code compareTo} is <i>not</i> consistent with {@link #equals}, which compares the full text
 * ({@code 1.0.0+a} and {@code 1.0.0+b} have the same precedence but are not equal).
 */
public final class SemanticVersion implements Comparable<SemanticVersion> {

  /** The longest version accepted, as in node-semver: SemVer sets no limit, but a manifest must. */
  static final int MAX_LENGTH = 256;

  private final String text;
  private final String major;
  private final String minor;
  private final String patch;
  private final List<String> preRelease;
  private final @Nullable String build;

  private SemanticVersion(String text, String major, String minor, String patch, List<String> preRelease,
      @Nullable String build) {
    this.text = text;
    this.major = major;
    this.minor = minor;
    this.patch = patch;
    this.preRelease = preRelease;
    this.build = build;
  }

  /**
   * Parses a version, strictly: no {@code v} prefix, no leading zeros, no white space, at most
   * 256 characters.
   *
   * @param text for example {@code 2.0.0}, {@code 2.1.0-rc.1} or {@code 1.0.0+20261125}
   * @return the version
   * @throws OtaException reason {@code USAGE} when the text is not a semantic version
   */
  public static SemanticVersion parse(String text) {
    Objects.requireNonNull(text, "text");
    // by hand, not with a regular expression: java.util.regex recurses on repeated groups and a
    // long hostile version would overflow the stack before its manifest's signature is checked
    if (text.length() > MAX_LENGTH) {
      throw OtaException.of(OtaException.Reason.USAGE, "A version has at most " + MAX_LENGTH + " characters, not "
          + text.length() + ".");
    }
    int plus = text.indexOf('+');
    String build = plus < 0 ? null : text.substring(plus + 1);
    String rest = plus < 0 ? text : text.substring(0, plus);
    int dash = rest.indexOf('-');
    String pre = dash < 0 ? null : rest.substring(dash + 1);
    String core = dash < 0 ? rest : rest.substring(0, dash);
    String[] numbers = core.split("\\.", -1);
    boolean valid = numbers.length == 3 && Arrays.stream(numbers).allMatch(SemanticVersion::isNumber)
        && (pre == null || identifiers(pre, true)) && (build == null || identifiers(build, false));
    if (!valid) {
      throw OtaException.of(OtaException.Reason.USAGE, "\"" + abbreviate(text)
          + "\" is not a semantic version; give one like 2.0.0 or 2.1.0-rc.1 (see semver.org).");
    }
    return new SemanticVersion(text, numbers[0], numbers[1], numbers[2],
        pre == null ? List.of() : List.of(pre.split("\\.")), build);
  }

  /** A numeric identifier: digits, no leading zero. */
  private static boolean isNumber(String s) {
    return !s.isEmpty() && isNumeric(s) && (s.length() == 1 || s.charAt(0) != '0');
  }

  /** Dot-separated, non-empty identifiers of [0-9A-Za-z-]; numeric pre-release ones without leading zeros. */
  private static boolean identifiers(String s, boolean preRelease) {
    for (String id : s.split("\\.", -1)) {
      if (id.isEmpty() || !id.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z') || c == '-')) {
        return false;
      }
      if (preRelease && isNumeric(id) && !isNumber(id)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether this version has a higher precedence than {@code other}.
   *
   * @param other the version to compare with
   * @return true when this one is newer
   */
  public boolean isNewerThan(SemanticVersion other) {
    return compareTo(other) > 0;
  }

  /**
   * Whether this is a pre-release ({@code 2.0.0-rc.1}).
   *
   * @return true when there is a pre-release part
   */
  public boolean isPreRelease() {
    return !preRelease.isEmpty();
  }

  /**
   * The build metadata, which precedence ignores.
   *
   * @return the text after {@code +}, or empty
   */
  public Optional<String> build() {
    return Optional.ofNullable(build);
  }

  @Override
  public int compareTo(SemanticVersion other) {
    int c = compareNumbers(major, other.major);
    if (c == 0) {
      c = compareNumbers(minor, other.minor);
    }
    if (c == 0) {
      c = compareNumbers(patch, other.patch);
    }
    if (c != 0) {
      return c;
    }
    if (preRelease.isEmpty() || other.preRelease.isEmpty()) {
      return Boolean.compare(preRelease.isEmpty(), other.preRelease.isEmpty());
    }
    int n = Math.min(preRelease.size(), other.preRelease.size());
    for (int i = 0; i < n; i++) {
      c = compareIdentifiers(preRelease.get(i), other.preRelease.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(preRelease.size(), other.preRelease.size());
  }

  /** Numbers without leading zeros, of any length: the longer is larger, else compare digit by digit. */
  private static int compareNumbers(String a, String b) {
    return a.length() != b.length() ? Integer.compare(a.length(), b.length()) : Integer.signum(a.compareTo(b));
  }

  private static int compareIdentifiers(String a, String b) {
    boolean an = isNumeric(a);
    boolean bn = isNumeric(b);
    if (an && bn) {
      return compareNumbers(a, b);
    }
    if (an != bn) {
      return an ? -1 : 1;
    }
    return Integer.signum(a.compareTo(b));
  }

  private static boolean isNumeric(String id) {
    return id.chars().allMatch(ch -> ch >= '0' && ch <= '9');
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /**
   * Equal when the full text is equal (build metadata included).
   *
   * @param o another object
   * @return whether it is the same version text
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof SemanticVersion && text.equals(((SemanticVersion) o).text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  /**
   * The version as it was written.
   *
   * @return the text
   */
  @Override
  public String toString() {
    return text;
  }
}
