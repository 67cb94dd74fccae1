package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    return new ChannelHandle(FileChannel.open(path, options));
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
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
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
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      inProcess.unlock();
      throw e;
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

  private static final class ChannelHandle implements Handle {
    private final FileChannel channel;

    ChannelHandle(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
      long at = position;
      while (src.hasRemaining()) {
        at += channel.write(src, at);
      }
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return channel.read(dst, position);
    }

    @Override
    public void force() throws IOException {
      // fdatasync: the data, and the metadata needed to read it back (a grown file's size), not the mtime
      channel.force(false);
    }

    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
