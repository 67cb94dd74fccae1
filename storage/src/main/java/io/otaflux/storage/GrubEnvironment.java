package io.otaflux.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;

/**
 * GRUB's environment block ({@code grubenv}), read and written as GRUB's {@code load_env} /
 * {@code save_env} and {@code grub-editenv} do.
 *
 * <p><b>Format</b> ({@code grub-core/lib/envblk.c}): exactly 1024 bytes; the header
 * {@code # GRUB Environment Block\n}; then lines {@code name=value\n}, where a backslash or a newline
 * in the value is preceded by a backslash; lines that start with {@code #} are comments; the rest of
 * the block is {@code #} padding, preceded by a newline. Setting a variable replaces its line in
 * place, a new variable is appended after the last line; every other line keeps its bytes and place.
 *
 * <p><b>Writing</b> goes to {@code grubenv.new} in the same directory, which is synced, renamed over
 * {@code grubenv}, and the directory synced: a power cut leaves the old block or the new one. A
 * failed directory sync after the rename is reported (the change failed) although the new block is
 * what the next read sees; {@link #update} therefore syncs the directory even when it changes
 * nothing, so that a block read and acted on is durable first. (GRUB
 * 2.06's {@code grub-editenv set} rewrites the file in place with {@code fopen("wb")}; only its
 * {@code create} uses {@code .new} and a rename. GRUB itself, at boot, rewrites the block's sectors in
 * place and needs the file unfragmented, which a fresh 1024-byte file is.)
 *
 * <p><b>Errors:</b> {@link OtaException}: {@code STORE_DAMAGED} for a block that is not 1024 bytes,
 * lacks the header or is broken, {@code NO_SPACE} when the variables do not fit, {@code IO_ERROR}
 * for a missing or failing file.
 */
final class GrubEnvironment {

  static final int SIZE = 1024;
  static final String HEADER = "# GRUB Environment Block\n";

  private final Medium medium;
  private final Path file;

  GrubEnvironment(Medium medium, Path file) {
    this.medium = medium;
    this.file = file;
  }

  Path file() {
    return file;
  }

  /**
   * Reads the block.
   *
   * @throws OtaException {@code STORE_DAMAGED} or {@code IO_ERROR}
   */
  EnvVariables read() {
    byte[] bytes;
    try (Medium.Handle h = medium.open(file, Medium.Mode.READ)) {
      long size = h.size();
      if (size != SIZE) {
        throw OtaException.of(Detail.STORE_DAMAGED, "The GRUB environment " + file + " has " + size + " bytes, not "
            + SIZE + "; it is not a GRUB environment block (or it was cut short). Nothing was changed; create it"
            + " again with `grub-editenv " + file + " create` and set the boot variables.");
      }
      bytes = new byte[SIZE];
      ByteBuffer dst = ByteBuffer.wrap(bytes);
      while (dst.hasRemaining()) {
        if (h.read(dst, dst.position()) < 0) {
          break;
        }
      }
    } catch (NoSuchFileException e) {
      throw OtaException.of(Detail.IO_ERROR, "The GRUB environment " + file + " is missing. Create it with"
          + " `grub-editenv " + file + " create` (it must be the file GRUB's load_env reads). Nothing was changed.",
          e);
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, "The GRUB environment " + file + " cannot be read: " + e.getMessage()
          + ". Nothing was changed.", e);
    }
    return parse(bytes, file);
  }

  /**
   * Writes the variables as a new block: temporary file, sync, rename, directory sync.
   *
   * @throws OtaException {@code NO_SPACE} when they do not fit (nothing is written then)
   */
  void write(EnvVariables variables) throws IOException {
    AtomicFiles.replace(medium, file, encode(variables, file));
  }

  /**
   * Reads, applies {@code changes} (see {@link EnvVariables#with}) and writes when something changed. When nothing
   * changes the directory is synced all the same: a rename whose directory sync failed is visible to this read but
   * would not survive a power cut, and the caller acts on what it read (an update writing a slot the block it read
   * takes out of GRUB's reach).
   */
  EnvVariables update(Map<String, @Nullable String> changes) throws IOException {
    EnvVariables current = read();
    EnvVariables next = current.with(changes, GrubEnvironment::line);
    if (!next.equals(current)) {
      write(next);
    } else {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        medium.syncDirectory(parent);
      }
    }
    return next;
  }

  /** The bytes of one line, without its final newline: the value escaped as GRUB does. */
  static byte[] line(String name, String value) {
    StringBuilder s = new StringBuilder(name).append('=');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' || c == '\n') {
        s.append('\\');
      }
      s.append(c);
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] encode(EnvVariables variables, Path file) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] header = HEADER.getBytes(StandardCharsets.US_ASCII);
    out.write(header, 0, header.length);
    for (EnvVariables.Entry e : variables.entries()) {
      out.write(e.raw(), 0, e.raw().length);
      out.write('\n');
    }
    if (out.size() > SIZE) {
      throw OtaException.of(Detail.NO_SPACE, "The GRUB environment " + file + " is too small for its variables:"
          + " they need " + out.size() + " of its " + SIZE + " bytes. Nothing was written. Remove variables it no"
          + " longer needs (grub-editenv " + file + " unset NAME).");
    }
    byte[] block = Arrays.copyOf(out.toByteArray(), SIZE);
    Arrays.fill(block, out.size(), SIZE, (byte) '#');
    return block;
  }

  /**
   * The variables of a block, as {@code grub_envblk_iterate} reads them, each line kept as its bytes.
   *
   * @throws OtaException {@code STORE_DAMAGED} when the header is missing or a line is broken
   */
  static EnvVariables parse(byte[] block, Path file) {
    byte[] header = HEADER.getBytes(StandardCharsets.US_ASCII);
    if (block.length != SIZE || !Arrays.equals(block, 0, header.length, header, 0, header.length)) {
      throw OtaException.of(Detail.STORE_DAMAGED, "The GRUB environment " + file + " does not start with \""
          + HEADER.strip() + "\"" + (block.length != SIZE ? " and has " + block.length + " bytes" : "")
          + "; it is not a GRUB environment block. Nothing was changed; create it again with `grub-editenv " + file
          + " create` and set the boot variables.");
    }
    // the padding: '#' back to a newline (grub_envblk_set calls anything else broken)
    int end = SIZE;
    while (end > header.length && block[end - 1] == '#') {
      end--;
    }
    if (block[end - 1] != '\n') {
      throw broken(file, "the padding at the end is not preceded by a newline");
    }
    List<EnvVariables.Entry> entries = new ArrayList<>();
    int p = header.length;
    while (p < end) {
      int lineEnd = p;
      while (lineEnd < end && block[lineEnd] != '\n') {
        lineEnd += block[lineEnd] == '\\' ? 2 : 1;
      }
      if (lineEnd >= end) {
        throw broken(file, "a line at byte " + p + " has no end");
      }
      byte[] raw = Arrays.copyOfRange(block, p, lineEnd);
      if (block[p] == '#') {
        entries.add(new EnvVariables.Entry(null, "", raw));
      } else {
        int eq = p;
        while (eq < lineEnd && block[eq] != '=') {
          eq++;
        }
        if (eq == lineEnd) {
          throw broken(file, "the line at byte " + p + " has no '='");
        }
        StringBuilder value = new StringBuilder();
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        for (int i = eq + 1; i < lineEnd; i++) {
          if (block[i] == '\\') {
            i++;
          }
          v.write(block[i]);
        }
        value.append(new String(v.toByteArray(), StandardCharsets.UTF_8));
        entries.add(new EnvVariables.Entry(EnvVariables.text(block, p, eq), value.toString(), raw));
      }
      p = lineEnd + 1;
    }
    return new EnvVariables(entries);
  }

  private static OtaException broken(Path file, String what) {
    return OtaException.of(Detail.STORE_DAMAGED, "The GRUB environment " + file + " is broken: " + what
        + ". Nothing was changed; check it with `grub-editenv " + file + " list`, or create it again.");
  }
}
