package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.jspecify.annotations.Nullable;

/**
 * A medium that hands every call to another one: the fault-injecting media ({@link FaultyMedium},
 * {@link ChaosMedium}) extend it and override only the calls they break.
 */
abstract class ForwardingMedium implements Medium {

  /** The medium every call goes to, as Guava's forwarding types name it. */
  abstract Medium delegate();

  @Override
  public Handle open(Path path, Mode mode) throws IOException {
    return delegate().open(path, mode);
  }

  @Override
  public boolean exists(Path path) {
    return delegate().exists(path);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    delegate().createDirectories(dir);
  }

  @Override
  public void rename(Path source, Path target) throws IOException {
    delegate().rename(source, target);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    delegate().syncDirectory(dir);
  }

  @Override
  public @Nullable Lock tryLock(Path lockFile) throws IOException {
    return delegate().tryLock(lockFile);
  }

  @Override
  public Lock lock(Path lockFile) throws IOException {
    return delegate().lock(lockFile);
  }

  /** A handle that hands every call to another one; a fault-injecting handle overrides what it breaks. */
  static class ForwardingHandle implements Handle {

    private final Handle real;

    ForwardingHandle(Handle real) {
      this.real = real;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
      real.write(src, position);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public void force() throws IOException {
      real.force();
    }

    @Override
    public boolean truncate(long size) throws IOException {
      return real.truncate(size);
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public void close() throws IOException {
      real.close();
    }
  }
}
