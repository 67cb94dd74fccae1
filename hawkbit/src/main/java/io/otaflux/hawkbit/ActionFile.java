package io.otaflux.hawkbit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * The action whose image was activated and waits for mark-good (or a fallback), kept in a small
 * file so the final feedback is sent after a reboot too. Written power-safe: temporary file, fsync,
 * rename, fsync of the directory; a power cut leaves the old file or the new one.
 */
final class ActionFile {

  /**
   * An activated action.
   *
   * @param actionId the hawkBit action
   * @param slot the slot made the trial boot choice
   * @param sha256 its image's digest
   * @param version the software module's version
   */
  record Pending(long actionId, SlotId slot, Sha256 sha256, String version) {
  }

  private final @Nullable Path file;

  ActionFile(@Nullable Path file) {
    this.file = file;
  }

  Optional<Pending> read() {
    Path f = file;
    if (f == null || !Files.exists(f)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      p.load(in);
      return Optional.of(new Pending(Long.parseLong(p.getProperty("action", "")),
          SlotId.ofLabel(p.getProperty("slot", "")), Sha256.ofHex(p.getProperty("sha256", "")),
          p.getProperty("version", "")));
    } catch (IOException | RuntimeException e) {
      throw OtaException.of(Detail.STORE_DAMAGED, "The hawkBit action file " + f + " cannot be read ("
          + e.getMessage() + "); delete it to forget the action waiting for mark-good.", e);
    }
  }

  void write(Pending pending) {
    Path f = file;
    if (f == null) {
      return;
    }
    Properties p = new Properties();
    p.setProperty("action", Long.toString(pending.actionId()));
    p.setProperty("slot", pending.slot().label());
    p.setProperty("sha256", pending.sha256().hex());
    p.setProperty("version", pending.version());
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    try {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        p.store(out, "otaflux hawkbit client: an action waiting for mark-good");
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      syncDirectory(f);
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, "Cannot write the hawkBit action file " + f + ": " + e.getMessage(), e);
    }
  }

  void clear() {
    Path f = file;
    if (f == null) {
      return;
    }
    try {
      if (Files.deleteIfExists(f)) {
        syncDirectory(f);
      }
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, "Cannot delete the hawkBit action file " + f + ": " + e.getMessage(), e);
    }
  }

  private static void syncDirectory(Path f) throws IOException {
    Path dir = f.toAbsolutePath().getParent();
    if (dir == null) {
      return;
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
