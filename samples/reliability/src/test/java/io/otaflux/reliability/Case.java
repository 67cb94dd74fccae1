package io.otaflux.reliability;

import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A named case of the reliability matrix: on a {@code @Test}, its {@code @DisplayName} is the
 * case; on a {@code @ParameterizedTest} (cases that differ only by data), one {@code @Case} per
 * row, named like the row (the first argument of the test's method source, of the same name).
 * This says the fault and the outcome. The README's "Reliability" table must list exactly these
 * ({@link ReadmeMatrixTest}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(Case.Rows.class)
public @interface Case { // public: JUnit reads the repeated container through a proxy, which must see this type
  /** @return the row's name, on a parameterised test only (a {@code @Test} is named by its {@code @DisplayName}) */
  String name() default "";

  /** @return the category: trust, redirects, protocol, integrity, storage, resources, load */
  String category();

  /** @return what goes wrong */
  String fault();

  /** @return the named outcome: reason or exit code, and what stays as it was */
  String outcome();

  /** The cases of a parameterised test, one per row. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Rows {
    /** @return the rows' cases */
    Case[] value();
  }
}
