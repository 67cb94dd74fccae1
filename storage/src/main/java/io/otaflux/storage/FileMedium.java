package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

/** The real medium: {@link FileChannel} positional I/O, {@code fsync}, and {@code flock}-style locks. */
final class FileMedium implements Medium {

  static final FileMedium INSTANCE = new FileMedium();

  /**
   * Lock files held by this process: {@link FileChannel#tryLock()} only guards against other
   * processes (and throws for a second lock in this one), so the process keeps its own set.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** Waiting locks of this process, one per lock file: threads queue here before the file lock. */
  private static final ConcurrentHashMap<Path, ReentrantLock> WAITING = new ConcurrentHashMap<>();

  private FileMedium() {
  }

  @Override
  public Handle open(Path path, Mode mode) throws IOException {
    Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.READ);
    switch (mode) {
      case READ:
        break;
      case WRITE:
        options.add(StandardOpenOption.WRITE);
        break;
      case CREATE:
        options.add(StandardOpenOption.WRITE);
        options.add(StandardOpenOption.CREATE);
        break;
      case CREATE_EMPTY:
        options.add(StandardOpenOption.WRITE);
        options.add(StandardOpenOption.CREATE);
        options.add(StandardOpenOption.TRUNCATE_EXISTING);
        break;
      default:
        throw new IllegalArgumentException("unknown mode " + mode);
    }
    try {
      return new ChannelHandle(path, FileChannel.open(path, options), Files.isRegularFile(path));
    } catch (IOException e) {
      throw classified(path, e);
    }
  }

  /** Space below which a failed write is taken for a full file system: a few blocks. */
  private static final long FULL_BELOW = 256 * 1024;

  /**
   * A failure as the medium explains it, by type: {@link AccessDeniedException} when the file or
   * its file system is read-only, {@link MediumFullException} when the file system is full, the
   * failure itself otherwise. Asks the file system, never the error's text.
   */
  static IOException classified(Path path, IOException e) {
    if (e instanceof NoSuchFileException || e instanceof AccessDeniedException || e instanceof MediumFullException) {
      return e;
    }
    String reason = e instanceof FileSystemException && ((FileSystemException) e).getReason() != null
        ? ((FileSystemException) e).getReason() : String.valueOf(e.getMessage());
    try {
      Path existing = path.toAbsolutePath();
      while (existing != null && !Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null) {
        return e;
      }
      FileStore store = Files.getFileStore(existing);
      IOException typed;
      if (store.isReadOnly() || Files.isRegularFile(existing) && !Files.isWritable(existing)) {
        typed = new AccessDeniedException(path.toString(), null, reason);
      } else if (store.getUsableSpace() < FULL_BELOW) {
        typed = new MediumFullException(path.toString(), reason);
      } else {
        return e;
      }
      typed.initCause(e);
      return typed;
    } catch (IOException | RuntimeException unknown) {
      e.addSuppressed(unknown);
      return e;
    }
  }

  @Override
  public boolean exists(Path path) {
    return Files.exists(path);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    Files.createDirectories(dir);
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    // Linux lets a directory be opened read-only and fsync'ed; that is what makes a rename durable.
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  @Override
  public @Nullable Lock tryLock(Path lockFile) throws IOException {
    Path key = lockFile.toAbsolutePath().normalize();
    if (!HELD.add(key)) {
      return null;
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        HELD.remove(key);
        return null;
      }
      return new HeldLock(key, channel);
    } catch (IOException | RuntimeException e) {
      closeAfter(channel, e);
      HELD.remove(key);
      throw e;
    }
  }

  @Override
  public Lock lock(Path lockFile) throws IOException {
    Path key = lockFile.toAbsolutePath().normalize();
    ReentrantLock inProcess = WAITING.computeIfAbsent(key, k -> new ReentrantLock());
    inProcess.lock();
    FileChannel channel = null;
    try {
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      channel.lock();
      FileChannel held = channel;
      return new Lock() {
        private boolean released;

        @Override
        public void release() {
          if (released) {
            return;
          }
          released = true;
          try {
            held.close();
          } catch (IOException ignored) {
            // the lock is gone with the channel either way
          } finally {
            inProcess.unlock();
          }
        }
      };
    } catch (IOException | RuntimeException e) {
      closeAfter(channel, e);
      inProcess.unlock();
      throw e;
    }
  }

  /** Closes the lock file's channel, if it was opened, after {@code failure}, which keeps a failing close. */
  private static void closeAfter(@Nullable FileChannel channel, Exception failure) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        failure.addSuppressed(suppressed);
      }
    }
  }

  private static final class HeldLock implements Lock {
    private final Path key;
    private final FileChannel channel;
    private boolean released;

    HeldLock(Path key, FileChannel channel) {
      this.key = key;
      this.channel = channel;
    }

    @Override
    public synchronized void release() {
      if (released) {
        return;
      }
      released = true;
      try {
        channel.close(); // closing the channel releases the file lock
      } catch (IOException ignored) {
        // the lock is gone with the channel either way
      } finally {
        HELD.remove(key);
      }
    }
  }

  /**
   * Background {@code fdatasync}s that start the medium's writeback early (see {@link ChannelHandle}):
   * daemon threads, gone after a minute idle.
   */
  private static final ExecutorService WRITE_BEHIND = Executors.newCachedThreadPool(task -> {
    Thread thread = new Thread(task, "otaflux-write-behind");
    thread.setDaemon(true);
    return thread;
  });

  /**
   * Bytes written between two background syncs. Without them the kernel keeps a whole sync
   * interval dirty in memory and writes it back only inside {@link ChannelHandle#force()}, while
   * the download waits; with them the disk works while the network does (benchmarks/RESULTS.md).
   * The system property {@code io.otaflux.storage.writeBehindBytes} changes it, 0 turns it off:
   * for the benchmark that backs the choice.
   */
  static final long WRITE_BEHIND_BYTES = Long.getLong("io.otaflux.storage.writeBehindBytes", 4L << 20);

  /**
   * A file channel. Every {@link #WRITE_BEHIND_BYTES} written, one {@code fdatasync} runs in the
   * background (at most one at a time); {@link #force()} waits for it and reports its failure, so
   * a failed background sync is never hidden behind a later one that the kernel lets succeed.
   * Calls come from one thread at a time, as for every handle.
   */
  private static final class ChannelHandle implements Handle {
    private final Path path;
    private final FileChannel channel;
    private final boolean regular;
    private long unsynced;
    private @Nullable Future<?> behind;

    ChannelHandle(Path path, FileChannel channel, boolean regular) {
      this.path = path;
      this.channel = channel;
      this.regular = regular;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
      long at = position;
      try {
        while (src.hasRemaining()) {
          at += channel.write(src, at);
        }
      } catch (IOException e) {
        throw classified(path, e);
      }
      unsynced += at - position;
      if (WRITE_BEHIND_BYTES > 0 && unsynced >= WRITE_BEHIND_BYTES && (behind == null || behind.isDone())) {
        awaitBehind();
        unsynced = 0;
        behind = WRITE_BEHIND.submit(() -> {
          channel.force(false);
          return null;
        });
      }
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return channel.read(dst, position);
    }

    @Override
    public void force() throws IOException {
      try {
        awaitBehind();
        unsynced = 0;
        // fdatasync: the data, and the metadata needed to read it back (a grown file's size), not the mtime
        channel.force(false);
      } catch (IOException e) {
        throw classified(path, e);
      }
    }

    /** Waits for the background sync, if one ran, and throws its failure. */
    private void awaitBehind() throws IOException {
      Future<?> running = behind;
      if (running == null) {
        return;
      }
      behind = null;
      boolean interrupted = false;
      try {
        while (true) {
          try {
            running.get();
            return;
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException) {
          throw (IOException) cause;
        }
        throw new IOException("background sync failed: " + cause, cause);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public boolean truncate(long size) throws IOException {
      if (!regular) {
        return false;
      }
      try {
        awaitBehind();
        channel.truncate(size);
      } catch (IOException e) {
        throw classified(path, e);
      }
      return true;
    }

    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public void close() throws IOException {
      try {
        awaitBehind();
      } catch (IOException e) {
        // closing after a failure or an abort: whatever was not synced is not counted on
      }
      channel.close();
    }
  }
}
