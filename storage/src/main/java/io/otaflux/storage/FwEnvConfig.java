package io.otaflux.storage;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

/**
 * Where the U-Boot environment lives, as libubootenv's {@code fw_env.config} says: one line per
 * copy (a second line means a redundant environment), each {@code DEVICE OFFSET SIZE [SECTOR_SIZE
 * [SECTORS]]}.
 *
 * <p><b>Parsing, as libubootenv 0.3 does it</b> ({@code libuboot_read_config_ext} in
 * <a href="https://github.com/sbabic/libubootenv/blob/master/src/uboot_env.c">src/uboot_env.c</a>,
 * {@code sscanf(line, "%ms %lli %zx %zx %lx %d")}): a line whose first character is {@code #} is a
 * comment; fields are separated by blanks; the offset is a C integer ({@code 0x} hex, a leading
 * {@code 0} octal, otherwise decimal, a minus sign counting back from the end of the device); the
 * size, sector size and sector count are always hexadecimal, with or without {@code 0x}; a line with
 * fewer than three fields is ignored; a size of zero is an error; after two devices the rest is
 * ignored. Unlike libubootenv, a field that is not a number is an error here rather than the end of
 * the line, and a device path is not resolved through symbolic links.
 *
 * @param copies one location, or two for a redundant environment
 */
record FwEnvConfig(List<Location> copies) {

  /**
   * One copy of the environment.
   *
   * @param device the file, partition or device
   * @param offset where the copy starts; negative counts back from the end of the device
   * @param size the copy's size in bytes, CRC and flags included ({@code CONFIG_ENV_SIZE})
   * @param sectorSize the erase-block size, 0 when not given
   * @param sectors the number of erase blocks, 0 when not given
   */
  record Location(Path device, long offset, long size, long sectorSize, long sectors) {
  }

  FwEnvConfig {
    copies = List.copyOf(copies);
    if (copies.isEmpty() || copies.size() > 2) {
      throw new IllegalArgumentException("one or two copies, not " + copies.size());
    }
  }

  /** Whether there are two copies, written alternately: an environment write is then power-safe. */
  boolean isRedundant() {
    return copies.size() == 2;
  }

  /** The size of one copy (libubootenv takes the first line's; both must agree). */
  int size() {
    return (int) copies.get(0).size();
  }

  /**
   * Reads and parses a {@code fw_env.config} file.
   *
   * @throws OtaException {@code IO_ERROR} when the file cannot be read, {@code INVALID_REQUEST} when it
   *     describes no usable environment
   */
  static FwEnvConfig read(Path file) {
    String text = TextFiles.read(file, StandardCharsets.ISO_8859_1, "U-Boot environment configuration",
        Detail.INVALID_REQUEST, ". Write one line per environment copy, as for fw_printenv: DEVICE OFFSET SIZE (for"
        + " example \"/dev/mmcblk0 0x3c0000 0x20000\"); a second line makes the environment redundant.");
    return parse(text, file);
  }

  /**
   * Parses the text of a {@code fw_env.config}.
   *
   * @param text the file's text
   * @param source the file's name, for messages; relative device paths are taken as they are
   * @throws OtaException {@code INVALID_REQUEST} when it describes no usable environment
   */
  static FwEnvConfig parse(String text, Path source) {
    List<Location> copies = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      if (copies.size() == 2) {
        break;
      }
      if (line.startsWith("#")) {
        continue;
      }
      String[] fields = line.strip().split("[ \t\r\f\u000b]+");
      if (fields.length < 3 || fields[0].isEmpty()) {
        continue;
      }
      String where = source + " line " + lineNumber;
      long offset = cInteger(fields[1], where, "offset");
      long size = hex(fields[2], where, "size");
      long sectorSize = fields.length > 3 ? hex(fields[3], where, "sector size") : 0;
      long sectors = fields.length > 4 ? hex(fields[4], where, "sector count") : 0;
      if (size == 0) {
        throw bad(where + ": the environment size is 0.");
      }
      if (size < 16 || size > (64 << 20)) {
        throw bad(where + ": an environment of " + size + " bytes is not plausible (U-Boot's are 0x1000 to"
            + " 0x100000, written in hex).");
      }
      Path device = Path.of(fields[0]);
      String name = fields[0];
      if (name.matches("/dev/mtd[0-9]+") || name.startsWith("/dev/ubi")) {
        throw bad(where + ": " + name + " is a raw " + (name.startsWith("/dev/ubi") ? "UBI volume" : "MTD flash")
            + " device; writing it needs erase (or volume-update) ioctls this Java code cannot issue. Use its"
            + " block device (/dev/mtdblockN) or a file or partition, or keep fw_setenv for this board.");
      }
      copies.add(new Location(device, offset, size, sectorSize, sectors));
    }
    if (copies.isEmpty()) {
      throw bad(source + " names no environment: write one line per copy, DEVICE OFFSET SIZE (for example"
          + " \"/dev/mmcblk0 0x3c0000 0x20000\").");
    }
    if (copies.size() == 2 && copies.get(0).size() != copies.get(1).size()) {
      throw bad(source + ": the two copies have different sizes (" + copies.get(0).size() + " and "
          + copies.get(1).size() + " bytes); U-Boot's redundant environment needs equal ones.");
    }
    if (copies.size() == 2 && copies.get(0).device().equals(copies.get(1).device())) {
      Location a = copies.get(0);
      Location b = copies.get(1);
      if (a.offset() >= 0 && b.offset() >= 0 && a.offset() < b.offset() + b.size()
          && b.offset() < a.offset() + a.size()) {
        throw bad(source + ": the two copies overlap on " + a.device() + "; a redundant environment needs two"
            + " separate areas.");
      }
    }
    return new FwEnvConfig(copies);
  }

  /** {@code %lli}: an optional sign, then 0x hex, 0 octal or decimal. */
  private static long cInteger(String field, String where, String what) {
    String s = field;
    boolean negative = false;
    if (s.startsWith("-") || s.startsWith("+")) {
      negative = s.startsWith("-");
      s = s.substring(1);
    }
    int radix = 10;
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.startsWith("0x")) {
      radix = 16;
      s = s.substring(2);
    } else if (s.length() > 1 && s.startsWith("0")) {
      radix = 8;
      s = s.substring(1);
    }
    long value = number(s, radix, field, where, what);
    return negative ? -value : value;
  }

  /** {@code %zx}: hexadecimal, with or without 0x. */
  private static long hex(String field, String where, String what) {
    String s = field;
    if (s.toLowerCase(Locale.ROOT).startsWith("0x")) {
      s = s.substring(2);
    }
    return number(s, 16, field, where, what);
  }

  private static long number(String digits, int radix, String field, String where, String what) {
    try {
      BigInteger value = new BigInteger(digits, radix);
      if (value.signum() < 0 || value.bitLength() > 62) {
        throw new NumberFormatException();
      }
      return value.longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw bad(where + ": the " + what + " \"" + field + "\" is not a number"
          + (radix == 16 ? " (it is read as hexadecimal)." : "."));
    }
  }

  private static OtaException bad(String sentence) {
    return OtaException.of(Detail.INVALID_REQUEST, "The U-Boot environment configuration is wrong: " + sentence);
  }
}
