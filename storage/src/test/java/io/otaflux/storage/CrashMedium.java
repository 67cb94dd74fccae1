package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * A medium in memory that loses power. It keeps, per file, the bytes that are durable (synced)
 * and the writes made since; directory entries (created, renamed files) are durable only after
 * {@link #syncDirectory}. Every operation that changes something (write, sync, create, truncate,
 * rename, directory sync) counts; the {@code cutAt}-th one cuts the power: a write at that point is
 * left half-done in the cache, anything else does not happen, and from then on every call throws
 * {@link PowerCut}. {@link #reboot} then builds the medium a restarted device would see, keeping
 * the unsynced writes as a {@link Survival} rule says.
 */
final class CrashMedium implements Medium {

  /** What happens to data that was written but not synced when the power goes. */
  enum Survival {
    /** All of it is lost. */
    NOTHING,
    /** All of it reached the medium (the cache was flushed just in time). */
    EVERYTHING,
    /** Each 512-byte sector of each unsynced write survives or not, at random (torn, reordered writes). */
    TORN_SECTORS
  }

  /** The power was cut: thrown by the operation that hit the cut and by everything after. */
  static final class PowerCut extends Error {
    private static final long serialVersionUID = 1L;

    PowerCut(String message) {
      super(message, null, false, false);
    }
  }

  private static final int SECTOR = 512;

  private final Map<Path, SimFile> live;
  private final Map<Path, SimFile> durable;
  private final Set<Path> locks = new HashSet<>();
  private final long cutAt;
  private long operations;
  private boolean cut;

  private CrashMedium(Map<Path, SimFile> files, long cutAt) {
    this.live = new HashMap<>(files);
    this.durable = new HashMap<>(files);
    this.cutAt = cutAt;
  }

  /** An empty medium that never loses power. */
  static CrashMedium reliable() {
    return new CrashMedium(Map.of(), Long.MAX_VALUE);
  }

  /** An empty medium whose power goes at the {@code cutAt}-th operation (counting from 1). */
  static CrashMedium cuttingAt(long cutAt) {
    return new CrashMedium(Map.of(), cutAt);
  }

  /** Operations counted so far. */
  synchronized long operations() {
    return operations;
  }

  synchronized boolean isCut() {
    return cut;
  }

  /**
   * The medium after the power comes back: what was synced, plus unsynced writes as
   * {@code survival} says. The new medium never loses power.
   */
  synchronized CrashMedium reboot(Survival survival, long seed) {
    Random random = new Random(seed);
    Map<Path, SimFile> names;
    if (survival == Survival.EVERYTHING || (survival == Survival.TORN_SECTORS && random.nextBoolean())) {
      names = live;
    } else {
      names = durable;
    }
    Map<Path, SimFile> survivors = new HashMap<>();
    for (Map.Entry<Path, SimFile> e : names.entrySet()) {
      survivors.put(e.getKey(), e.getValue().afterPowerCut(survival, random));
    }
    return new CrashMedium(survivors, Long.MAX_VALUE);
  }

  /** The bytes of a file as the medium holds them now (for assertions). */
  synchronized byte @Nullable [] contents(Path path) {
    SimFile f = live.get(path);
    return f == null ? null : f.live.clone();
  }

  private void tick(String what) {
    alive();
    operations++;
    if (operations == cutAt) {
      cut = true;
      throw new PowerCut("power cut at operation " + operations + " (" + what + ")");
    }
  }

  private void alive() {
    if (cut) {
      throw new PowerCut("the power is off");
    }
  }

  @Override
  public synchronized Handle open(Path path, Mode mode) throws IOException {
    alive();
    SimFile f = live.get(path);
    if (f == null) {
      if (mode == Mode.READ || mode == Mode.WRITE) {
        throw new NoSuchFileException(path.toString());
      }
      tick("create " + path);
      f = new SimFile();
      live.put(path, f);
    } else if (mode == Mode.CREATE_EMPTY) {
      tick("truncate " + path);
      f.truncate();
    }
    return new SimHandle(f, path);
  }

  @Override
  public synchronized boolean exists(Path path) {
    alive();
    return live.containsKey(path);
  }

  @Override
  public synchronized void createDirectories(Path dir) {
    alive();
  }

  @Override
  public synchronized void rename(Path source, Path target) throws IOException {
    alive();
    SimFile f = live.get(source);
    if (f == null) {
      throw new NoSuchFileException(source.toString());
    }
    tick("rename " + source + " to " + target);
    live.remove(source);
    live.put(target, f);
  }

  @Override
  public synchronized void syncDirectory(Path dir) {
    tick("sync directory " + dir);
    durable.keySet().removeIf(p -> Objects.equals(p.getParent(), dir));
    live.forEach((p, f) -> {
      if (Objects.equals(p.getParent(), dir)) {
        durable.put(p, f);
      }
    });
  }

  @Override
  public synchronized @Nullable Lock tryLock(Path lockFile) {
    alive();
    if (!locks.add(lockFile)) {
      return null;
    }
    return () -> {
      synchronized (CrashMedium.this) {
        locks.remove(lockFile);
      }
    };
  }

  @Override
  public synchronized Lock lock(Path lockFile) {
    Lock lock = tryLock(lockFile);
    if (lock == null) {
      throw new IllegalStateException("the simulation is single-threaded: waiting for " + lockFile + " would hang");
    }
    return lock;
  }

  /** One file: its synced bytes, its current bytes, and the changes since the last sync. */
  private static final class SimFile {
    byte[] durable = new byte[0];
    byte[] live = new byte[0];
    final List<Change> unsynced = new ArrayList<>();

    void write(long position, byte[] data) {
      live = apply(live, position, data);
      unsynced.add(new Change(position, data));
    }

    void truncate() {
      truncate(0);
    }

    void truncate(long size) {
      live = Arrays.copyOf(live, (int) Math.min(live.length, size));
      unsynced.add(new Change(-1 - size, new byte[0]));
    }

    void force() {
      durable = live.clone();
      unsynced.clear();
    }

    SimFile afterPowerCut(Survival survival, Random random) {
      byte[] bytes;
      switch (survival) {
        case NOTHING:
          bytes = durable.clone();
          break;
        case EVERYTHING:
          bytes = live.clone();
          break;
        default:
          bytes = durable.clone();
          for (Change c : unsynced) {
            if (c.position < 0) {
              if (random.nextBoolean()) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(bytes.length, -1 - c.position));
              }
              continue;
            }
            for (int at = 0; at < c.data.length; at += SECTOR) {
              if (random.nextBoolean()) {
                int n = Math.min(SECTOR, c.data.length - at);
                bytes = apply(bytes, c.position + at, Arrays.copyOfRange(c.data, at, at + n));
              }
            }
          }
      }
      SimFile f = new SimFile();
      f.durable = bytes;
      f.live = bytes.clone();
      return f;
    }

    private static byte[] apply(byte[] base, long position, byte[] data) {
      long end = position + data.length;
      if (end > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("the simulated medium holds files up to 2 GiB");
      }
      byte[] out = end > base.length ? Arrays.copyOf(base, (int) end) : base;
      System.arraycopy(data, 0, out, (int) position, data.length);
      return out;
    }
  }

  /** A write (position at least 0) or a truncation to {@code -1 - position} bytes (position below 0). */
  private static final class Change {
    final long position;
    final byte[] data;

    Change(long position, byte[] data) {
      this.position = position;
      this.data = data;
    }
  }

  private final class SimHandle implements Handle {
    private final SimFile file;
    private final Path path;

    SimHandle(SimFile file, Path path) {
      this.file = file;
      this.path = path;
    }

    @Override
    public void write(ByteBuffer src, long position) {
      synchronized (CrashMedium.this) {
        alive();
        byte[] data = new byte[src.remaining()];
        src.get(data);
        operations++;
        if (operations == cutAt) {
          // the write was under way: some of it may be in the cache when the power goes
          file.write(position, data);
          cut = true;
          throw new PowerCut("power cut at operation " + operations + " (write " + path + ")");
        }
        file.write(position, data);
      }
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      synchronized (CrashMedium.this) {
        alive();
        if (position >= file.live.length) {
          return -1;
        }
        int n = (int) Math.min(dst.remaining(), file.live.length - position);
        dst.put(file.live, (int) position, n);
        return n;
      }
    }

    @Override
    public void force() {
      synchronized (CrashMedium.this) {
        tick("sync " + path);
        file.force();
      }
    }

    @Override
    public boolean truncate(long size) {
      synchronized (CrashMedium.this) {
        tick("truncate " + path + " to " + size);
        file.truncate(size);
        return true;
      }
    }

    @Override
    public long size() {
      synchronized (CrashMedium.this) {
        alive();
        return file.live.length;
      }
    }

    @Override
    public void close() {
      // nothing to release; closing after the power is gone is harmless
    }
  }
}
