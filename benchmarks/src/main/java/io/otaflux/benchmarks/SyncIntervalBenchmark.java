package io.otaflux.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.otaflux.OtaUpdater;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.storage.FileSlotStore;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The journal's sync interval through the whole pipeline into a real file store (fsync, boot
 * state), with the source in memory: one op writes, syncs, verifies and activates a 256 MiB
 * image. {@code syncEvery = 0} stands for "only the final sync" (the interval set to the image
 * size), the floor of any interval.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 4)
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
public class SyncIntervalBenchmark {

  static final int IMAGE = 256 << 20;
  static final long MIB = 1 << 20;

  @Param({"1", "8", "32", "64", "0"})
  int syncEveryMiB;

  @Param({"65536"})
  int chunkSize;

  private byte[] image = new byte[0];
  private Path dir = Path.of(".");
  private OtaUpdater updater = OtaUpdater.create();

  @Setup(Level.Trial)
  public void setUp() {
    image = new byte[IMAGE];
    new Random(7).nextBytes(image);
  }

  @Setup(Level.Invocation)
  public void freshStore() throws IOException {
    dir = Files.createTempDirectory(Path.of(System.getProperty("bench.scratch", System.getProperty("java.io.tmpdir"))),
        "sync-bench");
    long every = syncEveryMiB == 0 ? IMAGE : syncEveryMiB * MIB;
    updater = OtaUpdater.create()
        .source(InMemoryFirmwareSource.of(image).chunkSize(chunkSize))
        .store(FileSlotStore.init(dir.resolve("slots"), IMAGE))
        .syncEvery(every);
  }

  @TearDown(Level.Invocation)
  public void removeStore() throws IOException {
    delete(dir);
  }

  @Benchmark
  public UpdateResult update() {
    return updater.install(UpdateRequest.of("https://bench.invalid/image.bin")).block();
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
