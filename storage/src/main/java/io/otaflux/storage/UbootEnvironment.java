package io.otaflux.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * U-Boot's binary environment on a file, a partition or a block device, located by a
 * {@link FwEnvConfig}: read and written as U-Boot and libubootenv's {@code fw_printenv} /
 * {@code fw_setenv} do, so that either side reads what the other wrote.
 *
 * <p><b>Format.</b> A copy of {@code SIZE} bytes is a CRC-32 (zlib's, stored little-endian) of the
 * data area, then, for a redundant environment only, one flags byte, then the data area:
 * {@code name=value\0} entries ended by an empty one ({@code \0\0}), the rest padding (we pad with
 * {@code 0x00} as U-Boot's {@code saveenv}; {@code mkenvimage} pads with {@code 0xFF}; both are
 * valid, the CRC covers the padding).
 *
 * <p><b>Redundancy (two lines in the configuration).</b> The copies are written alternately: a
 * write goes to the copy that does not hold the current environment, with the flags byte one more
 * (modulo 256) than the current copy's, and is synced before it counts. Reading takes the copy
 * whose CRC is right; when both are, the one with the larger flags byte, except that 0 follows 255
 * (the counter wrapped), and copy 0 on a tie. This is libubootenv's rule for files and block
 * devices ({@code FLAGS_INCREMENTAL} in {@code libuboot_load} / {@code libuboot_env_store},
 * <a href="https://github.com/sbabic/libubootenv/blob/master/src/uboot_env.c">src/uboot_env.c</a>)
 * and U-Boot's own for MMC ({@code env_import_redund}). A power cut during a write can only tear
 * the copy being written, whose CRC then fails, so the previous environment is read. Raw NOR flash
 * with U-Boot's active/obsolete flags is not handled ({@link FwEnvConfig} refuses {@code /dev/mtdN}).
 *
 * <p><b>Without redundancy</b> the single copy is rewritten in place: a power cut during that
 * write can destroy the environment, and U-Boot then boots with its built-in default environment.
 * {@link #isPowerSafe()} says which case this is, for status output and documentation.
 *
 * <p><b>Errors:</b> {@link OtaException}: {@code STORE_DAMAGED} when no copy has a right CRC (nothing
 * is written then), {@code NO_SPACE} when the variables do not fit (with the bytes needed),
 * {@code IO_ERROR} when the device is missing, too small or fails.
 *
 * <p>Instances hold no state; every read goes to the medium. Not safe against a concurrent writer
 * unless the caller holds a lock (libubootenv's is {@code /var/lock/fw_printenv.lock}).
 */
final class UbootEnvironment {

  private static final Logger log = LoggerFactory.getLogger(UbootEnvironment.class);

  private final Medium medium;
  private final FwEnvConfig config;

  UbootEnvironment(Medium medium, FwEnvConfig config) {
    this.medium = medium;
    this.config = config;
  }

  FwEnvConfig config() {
    return config;
  }

  /**
   * Whether a write survives a power cut at any instant (the environment is redundant). When false,
   * say so: a cut during an environment write can leave U-Boot with its default environment.
   */
  boolean isPowerSafe() {
    return config.isRedundant();
  }

  /** Bytes of the data area: what the variables, their separators and the final {@code \0} may use. */
  int capacity() {
    return config.size() - header(config.isRedundant());
  }

  /**
   * The environment as read, and the copy that holds it.
   *
   * @param variables the variables
   * @param copy 0 or 1: the copy read (always 0 without redundancy)
   * @param flags that copy's flags byte (0 without redundancy)
   */
  record Loaded(EnvVariables variables, int copy, int flags) {
  }

  /**
   * Reads the current environment.
   *
   * @throws OtaException {@code STORE_DAMAGED} when no copy is valid, {@code IO_ERROR} when a device
   *     is missing or unreadable
   */
  Loaded read() {
    return chosen(readCopies());
  }

  private Copy[] readCopies() {
    int copies = config.copies().size();
    Copy[] read = new Copy[copies];
    for (int i = 0; i < copies; i++) {
      read[i] = readCopy(i);
    }
    return read;
  }

  /** The copy in force among those read, as {@link #read()} returns it. */
  private Loaded chosen(Copy[] read) {
    int copies = read.length;
    int current;
    if (copies == 1) {
      if (!read[0].valid) {
        throw damaged(read[0].problem);
      }
      current = 0;
    } else {
      current = current(read[0], read[1]);
      if (current < 0) {
        throw damaged("copy 1: " + read[0].problem + "; copy 2: " + read[1].problem);
      }
      Copy other = read[1 - current];
      if (!other.valid) {
        log.warn("U-Boot environment: copy {} is not valid ({}); using copy {}", 2 - current, other.problem,
            current + 1);
      }
    }
    Copy c = read[current];
    return new Loaded(parse(c.bytes, header(copies == 2), config.copies().get(current).device()), current, c.flags);
  }

  /**
   * libubootenv's choice between two copies (incremental flags).
   *
   * @return 0 or 1, or -1 when neither is valid
   */
  static int current(Copy a, Copy b) {
    if (a.valid && !b.valid) {
      return 0;
    }
    if (!a.valid && b.valid) {
      return 1;
    }
    if (!a.valid) {
      return -1;
    }
    if (a.flags == 0xFF && b.flags == 0) {
      return 1;
    }
    if (b.flags == 0xFF && a.flags == 0) {
      return 0;
    }
    return b.flags > a.flags ? 1 : 0;
  }

  /**
   * Writes {@code next} as the new environment: into the other copy with the next flags value when
   * redundant, in place otherwise; synced before this returns.
   *
   * @param previous what {@link #read()} returned (the write goes to the copy it did not come from)
   * @param next the variables to store
   * @return the environment as now stored
   * @throws OtaException {@code NO_SPACE} when the variables do not fit (nothing is written then),
   *     {@code IO_ERROR} when the write or the sync fails
   */
  Loaded write(Loaded previous, EnvVariables next) throws IOException {
    boolean redundant = config.isRedundant();
    int copy = redundant ? 1 - previous.copy() : 0;
    int flags = redundant ? (previous.flags() + 1) & 0xFF : 0;
    byte[] image = encode(next, config.size(), redundant, flags);
    writeCopy(copy, image);
    return new Loaded(next, copy, flags);
  }

  /**
   * Reads the environment, applies {@code changes} (see {@link EnvVariables#with}) and writes it when
   * something changed, or when the copy not in force is invalid (it may hide a failed write that a power cut
   * could still complete: written over, it is settled).
   *
   * @return the environment as now stored
   */
  Loaded update(Map<String, @Nullable String> changes) throws IOException {
    Copy[] read = readCopies();
    Loaded current = chosen(read);
    EnvVariables next = current.variables().with(changes, UbootEnvironment::entry);
    if (next.equals(current.variables()) && (read.length == 1 || read[1 - current.copy()].valid)) {
      return current;
    }
    // also when nothing changes but the copy not in force is invalid: a write that failed (its sync, and the
    // spoiling of its CRC too) may have left a valid new copy in the page cache under the invalid one, and a power
    // cut can still let it reach the device and become the environment in force; written over and synced, it
    // cannot (campaign seed 109397)
    return write(current, next);
  }

  /**
   * Writes a fresh environment over whatever the devices hold (for setting a device up): copy 1 with
   * flags 1 and, when redundant, copy 2 with the same variables and flags 0, each synced.
   */
  Loaded format(EnvVariables variables) throws IOException {
    boolean redundant = config.isRedundant();
    byte[] first = encode(variables, config.size(), redundant, 1);
    if (redundant) {
      writeCopy(1, encode(variables, config.size(), true, 0));
    }
    writeCopy(0, first);
    return new Loaded(variables, 0, redundant ? 1 : 0);
  }

  /** The bytes of one {@code name=value} entry. */
  static byte[] entry(String name, String value) {
    byte[] bytes = (name + "=" + value).getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (b == 0) {
        throw new IllegalArgumentException("a U-Boot variable holds no NUL byte: " + name);
      }
    }
    return bytes;
  }

  /**
   * One copy's bytes: CRC, flags when redundant, data, padding with zeros.
   *
   * @throws OtaException {@code NO_SPACE} when the variables do not fit
   */
  static byte[] encode(EnvVariables variables, int size, boolean redundant, int flags) {
    int header = header(redundant);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (EnvVariables.Entry e : variables.entries()) {
      data.write(e.raw(), 0, e.raw().length);
      data.write(0);
    }
    data.write(0);
    if (data.size() == 1) {
      data.write(0); // no variables: the data area still starts with an empty entry
    }
    int capacity = size - header;
    if (data.size() > capacity) {
      throw OtaException.of(Detail.NO_SPACE, "The U-Boot environment is too small for its variables: they need "
          + data.size() + " bytes and a copy holds " + capacity + " (" + size + " bytes less " + header
          + " of header). Nothing was written. Give the environment more room (CONFIG_ENV_SIZE, and the size in"
          + " fw_env.config), or remove variables it no longer needs.");
    }
    byte[] image = new byte[size];
    byte[] d = data.toByteArray();
    System.arraycopy(d, 0, image, header, d.length);
    CRC32 crc = new CRC32();
    crc.update(image, header, capacity);
    ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) crc.getValue());
    if (redundant) {
      image[4] = (byte) flags;
    }
    return image;
  }

  /**
   * The variables of one copy's bytes (CRC already checked).
   *
   * @throws OtaException {@code STORE_DAMAGED} when the entries are not ended by an empty one
   */
  static EnvVariables parse(byte[] image, int header, Path device) {
    List<EnvVariables.Entry> entries = new ArrayList<>();
    int at = header;
    while (true) {
      if (at >= image.length) {
        throw OtaException.of(Detail.STORE_DAMAGED, "The U-Boot environment on " + device + " has a right CRC but"
            + " its variables run to the end of the area without the final empty entry; it was not written by"
            + " U-Boot or fw_setenv. Nothing was changed.");
      }
      if (image[at] == 0) {
        break;
      }
      int end = at;
      while (end < image.length && image[end] != 0) {
        end++;
      }
      if (end >= image.length) {
        at = end;
        continue;
      }
      byte[] raw = java.util.Arrays.copyOfRange(image, at, end);
      int eq = -1;
      for (int i = at; i < end; i++) {
        if (image[i] == '=') {
          eq = i;
          break;
        }
      }
      if (eq < 0) {
        entries.add(new EnvVariables.Entry(null, "", raw));
      } else {
        entries.add(new EnvVariables.Entry(EnvVariables.text(image, at, eq), EnvVariables.text(image, eq + 1, end),
            raw));
      }
      at = end + 1;
    }
    return new EnvVariables(entries);
  }

  static int header(boolean redundant) {
    return redundant ? 5 : 4;
  }

  /** One copy as read: its bytes, whether its CRC is right, its flags byte. */
  static final class Copy {
    final byte[] bytes;
    final boolean valid;
    final int flags;
    final String problem;

    Copy(byte[] bytes, boolean valid, int flags, String problem) {
      this.bytes = bytes;
      this.valid = valid;
      this.flags = flags;
      this.problem = problem;
    }
  }

  private Copy readCopy(int index) {
    FwEnvConfig.Location at = config.copies().get(index);
    int size = (int) at.size();
    byte[] bytes = new byte[size];
    int read = 0;
    try (Medium.Handle h = medium.open(at.device(), Medium.Mode.READ)) {
      long offset = resolve(at, h);
      ByteBuffer dst = ByteBuffer.wrap(bytes);
      while (dst.hasRemaining()) {
        int n = h.read(dst, offset + dst.position());
        if (n < 0) {
          break;
        }
        read += n;
      }
    } catch (NoSuchFileException e) {
      throw OtaException.of(Detail.IO_ERROR, "The U-Boot environment's device " + at.device() + " is missing"
          + " (named in the fw_env.config). Check the configuration and that the partition exists. Nothing was"
          + " changed.", e);
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, "The U-Boot environment on " + at.device() + " cannot be read: "
          + e.getMessage() + ". Check the device and its permissions. Nothing was changed.", e);
    }
    boolean redundant = config.isRedundant();
    if (read < size) {
      return new Copy(bytes, false, 0, "only " + read + " of its " + size + " bytes are on " + at.device());
    }
    long stored = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(0) & 0xFFFF_FFFFL;
    int header = header(redundant);
    CRC32 crc = new CRC32();
    crc.update(bytes, header, size - header);
    int flags = redundant ? bytes[4] & 0xFF : 0;
    if (crc.getValue() != stored) {
      return new Copy(bytes, false, flags, String.format("bad CRC (stored %08x, computed %08x)", stored,
          crc.getValue()));
    }
    return new Copy(bytes, true, flags, "valid");
  }

  private void writeCopy(int index, byte[] image) throws IOException {
    FwEnvConfig.Location at = config.copies().get(index);
    try (Medium.Handle h = medium.open(at.device(), Medium.Mode.WRITE)) {
      long offset = resolve(at, h);
      boolean written = false;
      try {
        h.write(ByteBuffer.wrap(image), offset);
        written = true;
        h.force();
      } catch (IOException e) {
        if (!written && !config.isRedundant()) {
          throw e; // the only copy: spoiling it would leave U-Boot its default environment for sure
        }
        // the new copy may be readable from the page cache yet never reach the device, while the caller
        // is told the write failed; a short write that failed after the variables (the padding was zeros
        // already) even leaves it valid (campaign seed 100471): spoil its CRC so that every later read takes
        // the previous copy
        try {
          h.write(ByteBuffer.wrap(new byte[] {(byte) ~image[0], (byte) ~image[1], (byte) ~image[2],
              (byte) ~image[3]}), offset);
          h.force();
        } catch (IOException again) {
          e.addSuppressed(again);
        }
        throw e;
      }
    }
  }

  /** The copy's offset on its device; a negative one counts back from the device's end. */
  private static long resolve(FwEnvConfig.Location at, Medium.Handle h) throws IOException {
    if (at.offset() >= 0) {
      return at.offset();
    }
    long size = h.size();
    if (size <= 0 || size + at.offset() < 0) {
      throw new IOException("the offset " + at.offset() + " counts back from the end of " + at.device()
          + ", whose size is " + (size <= 0 ? "unknown" : size + " bytes"));
    }
    return size + at.offset();
  }

  private OtaException damaged(String problems) {
    return OtaException.of(Detail.STORE_DAMAGED, "The U-Boot environment is damaged: no copy is valid ("
        + problems + "). U-Boot would boot with its built-in default environment. Nothing was written; restore"
        + " the environment (fw_setenv, or U-Boot's saveenv) and check the fw_env.config (" + config.copies()
        .get(0).device() + ").");
  }
}
