package io.otaflux.benchmarks;

import java.util.Random;

import io.otaflux.OtaUpdater;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.spi.InMemoryFirmwareSource;
import io.otaflux.spi.InMemorySlotStore;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The core pipeline alone (source in memory, slot in memory, no network, no disk): how chunk size
 * and chunks in flight cost in hand-offs, hashing and copies. One op is a whole update of
 * {@code imageMiB} (64 MiB).
 */
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
public class PipelineBenchmark extends AveragedBenchmark {

  @Param({"64"})
  int imageMiB;

  @Param({"8192", "65536", "262144"})
  int chunkSize;

  @Param({"8", "32"})
  int chunksInFlight;

  private byte[] image = new byte[0];
  private OtaUpdater updater = OtaUpdater.create();

  @Setup(Level.Trial)
  public void setUp() {
    image = new byte[imageMiB << 20];
    new Random(7).nextBytes(image);
  }

  @Setup(Level.Invocation)
  public void freshStore() {
    updater = OtaUpdater.create()
        .source(InMemoryFirmwareSource.of(image).chunkSize(chunkSize))
        .store(InMemorySlotStore.create(image.length))
        .chunksInFlight(chunksInFlight);
  }

  @Benchmark
  public UpdateResult update() {
    return updater.install(UpdateRequest.of("https://bench.invalid/image.bin")).block();
  }
}
