package io.otaflux.storage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The variables of a bootloader environment, in the order they are stored, each kept as the exact
 * bytes it was read as: setting some variables rewrites only those entries (in place, new ones at the
 * end), so every other variable, its position and its bytes survive a write unchanged. Immutable.
 *
 * <p>Names and values are text, UTF-8 both ways; an entry that is not valid UTF-8 reads with
 * replacement characters but keeps its bytes unless it is set.
 */
final class EnvVariables {

  /**
   * One stored entry.
   *
   * @param name the variable's name, or null for an entry that holds no {@code =} (kept as it is)
   * @param value the value, unescaped; empty when {@code name} is null
   * @param raw the entry's bytes as stored, without the separator
   */
  record Entry(@Nullable String name, String value, byte[] raw) {
  }

  private final List<Entry> entries;

  EnvVariables(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  static EnvVariables empty() {
    return new EnvVariables(List.of());
  }

  List<Entry> entries() {
    return entries;
  }

  /** The value of the first variable with this name, or null. */
  @Nullable String get(String name) {
    for (Entry e : entries) {
      if (name.equals(e.name())) {
        return e.value();
      }
    }
    return null;
  }

  /** Names and values in stored order (a later duplicate name does not replace the first). */
  Map<String, String> asMap() {
    Map<String, String> map = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (e.name() != null) {
        map.putIfAbsent(e.name(), e.value());
      }
    }
    return Collections.unmodifiableMap(map);
  }

  /**
   * These variables with {@code changes} applied: an existing variable gets its new value in place,
   * a new one goes at the end in the map's order, a null value deletes. Entries that do not change
   * keep their bytes.
   *
   * @param changes names to values (null to delete); a name must be non-empty and hold no {@code =}
   * @param encoder how a name and value become an entry's bytes in this format
   */
  EnvVariables with(Map<String, @Nullable String> changes, EntryEncoder encoder) {
    List<Entry> out = new ArrayList<>(entries);
    for (Map.Entry<String, @Nullable String> change : changes.entrySet()) {
      String name = Objects.requireNonNull(change.getKey(), "name");
      if (name.isEmpty() || name.indexOf('=') >= 0) {
        throw new IllegalArgumentException("a variable name is non-empty and holds no '=': \"" + name + "\"");
      }
      String value = change.getValue();
      int at = -1;
      for (int i = 0; i < out.size(); i++) {
        if (name.equals(out.get(i).name())) {
          at = i;
          break;
        }
      }
      if (value == null) {
        if (at >= 0) {
          out.remove(at);
        }
        continue;
      }
      if (at >= 0 && out.get(at).value().equals(value)) {
        continue; // unchanged: keep its bytes
      }
      Entry entry = new Entry(name, value, encoder.encode(name, value));
      if (at >= 0) {
        out.set(at, entry);
      } else {
        out.add(entry);
      }
    }
    return new EnvVariables(out);
  }

  /** Turns a name and a value into the bytes of one entry. */
  @FunctionalInterface
  interface EntryEncoder {
    byte[] encode(String name, String value);
  }

  static String text(byte[] bytes, int from, int to) {
    return new String(bytes, from, to - from, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof EnvVariables)) {
      return false;
    }
    List<Entry> other = ((EnvVariables) o).entries;
    if (other.size() != entries.size()) {
      return false;
    }
    for (int i = 0; i < entries.size(); i++) {
      if (!Arrays.equals(entries.get(i).raw(), other.get(i).raw())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (Entry e : entries) {
      h = 31 * h + Arrays.hashCode(e.raw());
    }
    return h;
  }

  @Override
  public String toString() {
    return asMap().toString();
  }
}
