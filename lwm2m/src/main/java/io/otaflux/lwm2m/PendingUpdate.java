package io.otaflux.lwm2m;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * An update that was executed and waits for its confirmation (mark-good) or its rollback: the slot,
 * its digest and the package name and version. Kept in a small file beside the store so the
 * Update Result survives an agent restart (or the reboot the update asks for).
 *
 * @param slot the slot made the trial boot choice
 * @param sha256 the digest of its image
 * @param packageName resource 6, or empty
 * @param packageVersion resource 7, or empty
 */
record PendingUpdate(SlotId slot, Sha256 sha256, String packageName, String packageVersion) {

  /** Reads the pending update from {@code file}, if there is one. */
  static Optional<PendingUpdate> read(@Nullable Path file) {
    if (file == null || !Files.exists(file)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
      String slot = p.getProperty("slot");
      String sha = p.getProperty("sha256");
      if (slot == null || sha == null) {
        return Optional.empty();
      }
      return Optional.of(new PendingUpdate(SlotId.ofLabel(slot), Sha256.ofHex(sha), p.getProperty("name", ""),
          p.getProperty("version", "")));
    } catch (IOException | RuntimeException e) {
      throw OtaException.of(OtaException.Reason.STORAGE, "The agent's pending-update file " + file
          + " cannot be read (" + e.getMessage() + "); delete it to forget the pending update.", e);
    }
  }

  /**
   * Writes this to {@code file} so that a power cut leaves the old record or the new one: a
   * temporary file written and synced, renamed over the file, the directory synced.
   */
  void write(@Nullable Path file) {
    if (file == null) {
      return;
    }
    Properties p = new Properties();
    p.setProperty("slot", slot.label());
    p.setProperty("sha256", sha256.hex());
    p.setProperty("name", packageName);
    p.setProperty("version", packageVersion);
    StringWriter text = new StringWriter();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Path dir = file.toAbsolutePath().getParent();
    try {
      p.store(text, "otaflux lwm2m agent: an update waiting for mark-good");
      ByteBuffer bytes = StandardCharsets.UTF_8.encode(text.toString()); // as read() reads it
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        while (bytes.hasRemaining()) {
          ch.write(bytes);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      if (dir != null) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
          d.force(true); // the rename itself
        }
      }
    } catch (IOException e) {
      throw OtaException.of(OtaException.Detail.IO_ERROR, "The agent's pending-update file " + file
          + " cannot be written: " + e.getMessage(), e);
    }
  }

  /** Forgets the pending update. */
  static void clear(@Nullable Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
