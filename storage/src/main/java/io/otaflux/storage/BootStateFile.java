package io.otaflux.storage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.spi.ImageSpec;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The boot state on its medium: two copies at fixed offsets, each with a generation counter and a
 * CRC, written alternately (as U-Boot's redundant environment). A write goes to the copy that does
 * not hold the current state, with the next generation, and is synced before the operation
 * returns; a power cut tears at most that copy, and reading takes the valid copy with the highest
 * generation. No rename and no file growth after creation, so the same file can be a raw
 * partition. See the package documentation for the layout.
 */
final class BootStateFile {

  private static final Logger log = LoggerFactory.getLogger(BootStateFile.class);

  static final int FORMAT_VERSION = 1;
  static final int MAGIC = 0x4f544142; // "OTAB"
  static final int COPY_SIZE = 64 * 1024;
  static final int HEADER = 20;
  static final int MAX_PAYLOAD = COPY_SIZE - HEADER - 4;

  private final Medium medium;
  private final Path file;

  BootStateFile(Medium medium, Path file) {
    this.medium = medium;
    this.file = file;
  }

  Path path() {
    return file;
  }

  /**
   * The state as last written, with where it lies.
   *
   * @param state the state
   * @param generation its generation
   * @param copy the copy (0 or 1) that holds it
   */
  record Loaded(BootState state, long generation, int copy) {
  }

  /** Writes a fresh state file: copy 0 holds generation 1, copy 1 is blank; atomic by rename. */
  static void create(Medium medium, Path file, BootState state) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".new");
    try (Medium.Handle h = medium.open(tmp, Medium.Mode.CREATE_EMPTY)) {
      // Both copies are written in full now (zeros past the record) so that a later write never
      // needs a block the file system has not allocated: a full disk cannot fail a state update.
      ByteBuffer whole = ByteBuffer.allocate(2 * COPY_SIZE);
      whole.put(encode(state, 1));
      whole.clear();
      h.write(whole, 0);
      h.force();
    }
    medium.rename(tmp, file);
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      medium.syncDirectory(dir);
    }
  }

  /** Whether a state file exists at all (it may still be damaged). */
  boolean exists() {
    return medium.exists(file);
  }

  Loaded load() {
    byte[] whole = new byte[2 * COPY_SIZE];
    int read = 0;
    try (Medium.Handle h = medium.open(file, Medium.Mode.READ)) {
      ByteBuffer dst = ByteBuffer.wrap(whole);
      while (dst.hasRemaining()) {
        int n = h.read(dst, dst.position());
        if (n < 0) {
          break;
        }
        read += n;
      }
    } catch (NoSuchFileException e) {
      throw OtaException.of(Reason.STORAGE, "There is no slot store here: " + file + " is missing. Create one with"
          + " `ota init --slots DIR` (or FileSlotStore.init).", e);
    } catch (IOException e) {
      throw OtaException.of(Reason.STORAGE, "The boot state " + file + " cannot be read: " + e.getMessage()
          + ". Check the disk and its permissions, then try again.", e);
    }
    Copy[] copies = {Copy.decode(whole, 0, read), Copy.decode(whole, 1, read)};
    Copy best = null;
    for (Copy c : copies) {
      if (c.isValid() && (best == null || c.generation > best.generation)) {
        best = c;
      }
    }
    if (best == null) {
      throw OtaException.of(Detail.STORE_DAMAGED, "The boot state " + file + " is damaged in both copies (copy 0: "
          + copies[0].problem + "; copy 1: " + copies[1].problem + "). The store will not guess which slot to boot"
          + " and changes nothing; restore the file from a backup. Only if both images may be lost, `ota init --force`"
          + " re-creates the store, destroying both slots' images (the confirmed one too) and the boot state.");
    }
    if (best.version != FORMAT_VERSION) {
      throw OtaException.of(Detail.STORE_DAMAGED, "The boot state " + file + " has format version " + best.version
          + ", which this OtaFlux does not know (it reads version " + FORMAT_VERSION + "). Use the OtaFlux version"
          + " that wrote it; nothing was changed.");
    }
    Copy other = copies[1 - best.index];
    if (!other.isValid() && !other.blank) {
      log.warn("Boot state {}: copy {} is damaged ({}); using copy {} (generation {})", file, other.index,
          other.problem, best.index, best.generation);
    }
    return new Loaded(best.state(), best.generation, best.index);
  }

  /**
   * Writes the next generation into the other copy and syncs it. The file is synced first: the copy in force may
   * be one whose sync failed (and whose spoiling failed too), readable from the page cache but not on the disk, and
   * overwriting the other copy, the last durable one, would then leave both copies to a power cut (campaign seed
   * 109010: both copies torn, the store refused as damaged). That sync failing fails the store before any byte.
   */
  Loaded store(BootState state, Loaded previous) throws IOException {
    long generation = previous.generation() + 1;
    int copy = 1 - previous.copy();
    byte[] bytes = encode(state, generation);
    try (Medium.Handle h = medium.open(file, Medium.Mode.WRITE)) {
      h.force();
      h.write(ByteBuffer.wrap(bytes), (long) copy * COPY_SIZE);
      try {
        h.force();
      } catch (IOException e) {
        // the new record is readable from the page cache although it may never reach the disk, and the
        // caller is told the operation failed: spoil its magic so every later read takes the previous copy
        try {
          h.write(ByteBuffer.wrap(new byte[4]), (long) copy * COPY_SIZE);
          h.force();
        } catch (IOException again) {
          e.addSuppressed(again);
        }
        throw e;
      }
    }
    return new Loaded(state, generation, copy);
  }

  static byte[] encode(BootState state, long generation) {
    byte[] payload = payload(state);
    if (payload.length > MAX_PAYLOAD) {
      throw OtaException.of(Reason.STORAGE, "The boot state would need " + payload.length + " bytes but a copy holds "
          + MAX_PAYLOAD + "; an image URL or version is far too long. Use a shorter URL.");
    }
    ByteBuffer out = ByteBuffer.allocate(HEADER + payload.length + 4);
    out.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(generation).putInt(payload.length).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    out.putInt((int) crc.getValue());
    return out.array();
  }

  private static byte[] payload(BootState state) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(slotCode(state.active()));
      out.writeByte(slotCode(state.next()));
      out.writeLong(state.capacity());
      for (SlotId id : SlotId.values()) {
        SlotRecord s = state.slot(id);
        out.writeByte(stateCode(s.state()));
        out.writeInt(s.attempts());
        out.writeLong(s.size());
        writeSha(out, s.sha256());
        writeString(out, s.version());
        writeString(out, s.origin() == null ? null : s.origin().toString());
        SlotRecord.Journal j = s.journal();
        out.writeBoolean(j != null);
        if (j != null) {
          writeString(out, j.image().uri().toString());
          out.writeLong(j.image().size());
          writeSha(out, j.image().sha256());
          writeString(out, j.image().version());
          writeString(out, j.validator());
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  private static BootState parse(byte[] payload) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
    SlotId active = slotOf(in.readByte());
    SlotId next = slotOf(in.readByte());
    long capacity = in.readLong();
    if (capacity < 0) {
      throw new IOException("negative capacity " + capacity);
    }
    SlotRecord[] records = new SlotRecord[2];
    for (int i = 0; i < 2; i++) {
      SlotState state = stateOf(in.readByte());
      int attempts = in.readInt();
      long size = in.readLong();
      if (attempts < 0 || size < 0 || size > capacity) {
        throw new IOException("slot " + i + " has " + attempts + " attempts and size " + size);
      }
      Sha256 sha = readSha(in);
      String version = readString(in);
      String origin = readString(in);
      SlotRecord.Journal journal = null;
      if (in.readBoolean()) {
        URI uri = uri(readString(in));
        long imageSize = in.readLong();
        Sha256 imageSha = readSha(in);
        String imageVersion = readString(in);
        String validator = readString(in);
        if (uri == null) {
          throw new IOException("journal without an image URL");
        }
        journal = new SlotRecord.Journal(new ImageSpec(uri, imageSize, imageSha, imageVersion), validator);
      }
      if (state.isBootable() && sha == null && !(i == 0 && size == 0 && state == SlotState.GOOD)) {
        // only the factory image of slot a boots without a recorded digest
        throw new IOException("bootable slot " + i + " without a digest");
      }
      records[i] = new SlotRecord(state, attempts, size, sha, version, uri(origin), journal);
    }
    if (in.available() != 0) {
      throw new IOException(in.available() + " bytes after the record");
    }
    return new BootState(active, next, capacity, records[0], records[1]);
  }

  private static int slotCode(SlotId id) {
    return id == SlotId.A ? 0 : 1;
  }

  private static SlotId slotOf(byte code) throws IOException {
    switch (code) {
      case 0:
        return SlotId.A;
      case 1:
        return SlotId.B;
      default:
        throw new IOException("unknown slot code " + code);
    }
  }

  /** Fixed codes, independent of the enum's order. */
  private static int stateCode(SlotState state) {
    switch (state) {
      case EMPTY:
        return 0;
      case WRITING:
        return 1;
      case INVALID:
        return 2;
      case TRIAL:
        return 3;
      case GOOD:
        return 4;
      default:
        throw new IllegalArgumentException("unknown state " + state);
    }
  }

  private static SlotState stateOf(byte code) throws IOException {
    switch (code) {
      case 0:
        return SlotState.EMPTY;
      case 1:
        return SlotState.WRITING;
      case 2:
        return SlotState.INVALID;
      case 3:
        return SlotState.TRIAL;
      case 4:
        return SlotState.GOOD;
      default:
        throw new IOException("unknown slot state code " + code);
    }
  }

  private static void writeSha(DataOutputStream out, @Nullable Sha256 sha) throws IOException {
    out.writeBoolean(sha != null);
    if (sha != null) {
      out.write(sha.bytes());
    }
  }

  private static @Nullable Sha256 readSha(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    byte[] bytes = new byte[32];
    in.readFully(bytes);
    return Sha256.of(bytes);
  }

  private static void writeString(DataOutputStream out, @Nullable String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static @Nullable String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      return null;
    }
    if (length > MAX_PAYLOAD) {
      throw new IOException("string of " + length + " bytes");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static @Nullable URI uri(@Nullable String s) throws IOException {
    if (s == null) {
      return null;
    }
    try {
      return new URI(s);
    } catch (URISyntaxException e) {
      throw new IOException("bad URL " + s, e);
    }
  }

  /** One copy as found on the medium. */
  private static final class Copy {
    final int index;
    final boolean blank;
    final @Nullable String problem;
    final int version;
    final long generation;
    final @Nullable BootState state;

    private Copy(int index, boolean blank, @Nullable String problem, int version, long generation,
        @Nullable BootState state) {
      this.index = index;
      this.blank = blank;
      this.problem = problem;
      this.version = version;
      this.generation = generation;
      this.state = state;
    }

    boolean isValid() {
      return problem == null;
    }

    BootState state() {
      if (state == null) {
        throw new IllegalStateException("copy " + index + " holds no state");
      }
      return state;
    }

    static Copy bad(int index, boolean blank, String problem) {
      return new Copy(index, blank, problem, 0, 0, null);
    }

    static Copy decode(byte[] whole, int index, int length) {
      int start = index * COPY_SIZE;
      int available = Math.max(0, Math.min(COPY_SIZE, length - start));
      if (available < HEADER + 4) {
        return bad(index, available == 0, available == 0 ? "missing (file truncated)" : "truncated");
      }
      ByteBuffer in = ByteBuffer.wrap(whole, start, available).slice();
      int magic = in.getInt();
      if (magic != MAGIC) {
        boolean blank = true;
        for (int i = 0; i < available && blank; i++) {
          blank = whole[start + i] == 0;
        }
        return bad(index, blank, blank ? "never written" : "no boot state header");
      }
      int version = in.getInt();
      long generation = in.getLong();
      int payloadLength = in.getInt();
      if (payloadLength < 0 || payloadLength > available - HEADER - 4) {
        return bad(index, false, "record length " + payloadLength + " does not fit (torn or truncated)");
      }
      CRC32C crc = new CRC32C();
      crc.update(whole, start, HEADER + payloadLength);
      int stored = in.getInt(HEADER + payloadLength);
      if ((int) crc.getValue() != stored) {
        return bad(index, false, "CRC mismatch (torn or corrupt)");
      }
      if (version != FORMAT_VERSION) {
        // a valid copy in a format this code does not read: reported by load() if it is the newest
        return new Copy(index, false, null, version, generation, null);
      }
      try {
        byte[] payload = new byte[payloadLength];
        System.arraycopy(whole, start + HEADER, payload, 0, payloadLength);
        return new Copy(index, false, null, version, generation, parse(payload));
      } catch (IOException | RuntimeException e) {
        return bad(index, false, "inconsistent record: " + e.getMessage());
      }
    }
  }
}
