package io.otaflux.reliability;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A named case of the reliability matrix: the test's {@code @DisplayName} is the case, this says
 * the fault and the outcome. The README's "Reliability" table must list exactly these
 * ({@link ReadmeMatrixTest}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Case {
  /** @return the category: trust, redirects, protocol, integrity, storage, resources, load */
  String category();

  /** @return what goes wrong */
  String fault();

  /** @return the named outcome: reason or exit code, and what stays as it was */
  String outcome();
}
