package io.otaflux.storage;

import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/** Bootloader environments for the tests, from {@code NAME, VALUE} pairs kept in their order. */
final class TestVariables {

  private TestVariables() {
  }

  /** A U-Boot environment holding the pairs. */
  static EnvVariables uboot(String... pairs) {
    return EnvVariables.empty().with(map(pairs), UbootEnvironment::entry);
  }

  /** A GRUB environment holding the pairs. */
  static EnvVariables grub(String... pairs) {
    return EnvVariables.empty().with(map(pairs), GrubEnvironment::line);
  }

  private static Map<String, @Nullable String> map(String... pairs) {
    if (pairs.length % 2 != 0) {
      throw new IllegalArgumentException("NAME, VALUE pairs, not " + pairs.length + " strings");
    }
    Map<String, @Nullable String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }
}
