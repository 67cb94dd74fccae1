package io.otaflux.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.jspecify.annotations.Nullable;

/**
 * The file operations the store is made of, and nothing more: so that a test can put a medium
 * under it that loses what was not synced when the power is cut ({@code CrashMedium}), fills up,
 * or refuses writes. {@link FileMedium} is the real one.
 */
interface Medium {

  /** How a file is opened. */
  enum Mode {
    /** Read only; the file must exist. */
    READ,
    /** Read and write; the file must exist. */
    WRITE,
    /** Read and write, created when missing, kept as it is otherwise. */
    CREATE,
    /** Read and write, created when missing, emptied otherwise. */
    CREATE_EMPTY
  }

  /**
   * Opens a file.
   *
   * @throws java.nio.file.NoSuchFileException when it is missing and the mode does not create it
   * @throws java.nio.file.AccessDeniedException when the mode writes and the file is read-only
   */
  Handle open(Path path, Mode mode) throws IOException;

  boolean exists(Path path);

  void createDirectories(Path dir) throws IOException;

  /** Renames atomically, replacing {@code target}; durable only after {@link #syncDirectory}. */
  void rename(Path source, Path target) throws IOException;

  /** Makes the directory's entries (created and renamed files) durable. */
  void syncDirectory(Path dir) throws IOException;

  /**
   * Takes an exclusive lock on {@code lockFile}, in this process and against others, without
   * waiting (the update lock, held for a whole write session).
   *
   * @return the lock, or null when someone holds it
   */
  @Nullable Lock tryLock(Path lockFile) throws IOException;

  /**
   * Takes an exclusive lock on {@code lockFile}, in this process and against others, waiting for it
   * (the state lock, held for one read-modify-write of the boot state: milliseconds).
   *
   * @return the lock
   */
  Lock lock(Path lockFile) throws IOException;

  /** An open file: positional reads and writes, and a sync. */
  interface Handle extends Closeable {

    /** Writes all of {@code src} at {@code position}. */
    void write(ByteBuffer src, long position) throws IOException;

    /** Reads at {@code position}; -1 at the end. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Makes every byte written so far durable. */
    void force() throws IOException;

    /**
     * Cuts a regular file to {@code size} bytes (not yet durable: {@link #force} makes it so).
     *
     * @return false, changing nothing, when this is not a regular file (a block device)
     */
    boolean truncate(long size) throws IOException;

    /** The file's size; for a block device, what the device reports (0 when it reports nothing). */
    long size() throws IOException;
  }

  /** A held lock; releasing it is idempotent and never throws. */
  interface Lock {
    void release();
  }
}
