package io.otaflux.ui;

import org.jspecify.annotations.Nullable;

/** The one escaping loop of the page and its JSON: each format gives its own table. */
final class Escapes {

  /** What replaces one character, or null to keep it. */
  interface Table {
    @Nullable String replacement(char c);
  }

  private Escapes() {
  }

  /** Appends {@code s} to {@code b}, each character replaced as the table says. */
  static StringBuilder append(StringBuilder b, String s, Table table) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String replacement = table.replacement(c);
      if (replacement == null) {
        b.append(c);
      } else {
        b.append(replacement);
      }
    }
    return b;
  }
}
