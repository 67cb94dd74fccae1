package io.otaflux.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import io.otaflux.Sha256;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotWriter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the resume journal's sync interval costs: writes an image through the file store with a
 * sync (slot fsync + boot state write + fsync) every 1, 4, 8 and 32 MiB, against the floor of one
 * plain {@link FileChannel} write with a single fsync at the end. Not a unit test; run it by hand:
 *
 * <pre>{@code
 * mvn -q -pl storage -am test-compile
 * mvn -q -pl storage dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/cp.txt
 * java -cp "storage/target/test-classes:storage/target/classes:core/target/classes:$(cat /tmp/cp.txt)" \
 *     io.otaflux.storage.SyncIntervalBenchmark /var/tmp/bench 256 7
 * }</pre>
 *
 * Arguments: a scratch directory on the disk to measure (emptied), the image size in MiB, the rounds.
 *
 * <p>Measured here (2 shared cores, load 5, virtio disk that does ~1.4 GB/s with one fsync; 256 MiB,
 * median of 7), time relative to the plain write: every 1 MiB 6.5x, 4 MiB 2.9x, 8 MiB 1.9x, 32 MiB
 * 1.4x. Each journal sync (slot fdatasync, state write, state fdatasync) costs about 4 to 5 ms here,
 * so the cost is per sync: at the updater's default of 8 MiB that is ~0.6 s per GiB.
 */
final class SyncIntervalBenchmark {

  private static final Logger log = LoggerFactory.getLogger(SyncIntervalBenchmark.class);
  private static final int MIB = 1 << 20;
  private static final int CHUNK = 64 * 1024;

  private SyncIntervalBenchmark() {
  }

  public static void main(String[] args) throws IOException {
    Path scratch = Path.of(args.length > 0 ? args[0] : "/var/tmp/otaflux-bench");
    int sizeMiB = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    long size = (long) sizeMiB * MIB;
    byte[] pattern = new byte[MIB];
    new Random(1).nextBytes(pattern);
    int[] intervals = {1, 4, 8, 32};
    double[] floor = new double[rounds];
    double[][] times = new double[intervals.length][rounds];
    for (int round = 0; round < rounds; round++) {
      // interleaved, so that a noisy neighbour on a shared disk hits every variant alike
      floor[round] = plainWrite(scratch, size, pattern);
      for (int i = 0; i < intervals.length; i++) {
        times[i][round] = storeWrite(scratch, size, pattern, (long) intervals[i] * MIB);
      }
    }
    clean(scratch);
    double plain = median(floor);
    log.info(String.format(Locale.ROOT, "%d MiB, median of %d: plain write + 1 fsync %.2f s (%.0f MiB/s)", sizeMiB,
        rounds, plain, sizeMiB / plain));
    for (int i = 0; i < intervals.length; i++) {
      double t = median(times[i]);
      log.info(String.format(Locale.ROOT, "sync every %2d MiB: %.2f s (%.0f MiB/s), %.2fx the floor", intervals[i],
          t, sizeMiB / t, t / plain));
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static double plainWrite(Path scratch, long size, byte[] pattern) throws IOException {
    clean(scratch);
    Files.createDirectories(scratch);
    long start = System.nanoTime();
    try (FileChannel c = FileChannel.open(scratch.resolve("plain.img"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE)) {
      for (long at = 0; at < size; at += CHUNK) {
        ByteBuffer chunk = ByteBuffer.wrap(pattern, (int) (at % pattern.length), CHUNK);
        while (chunk.hasRemaining()) {
          c.write(chunk, at + chunk.position() - (int) (at % pattern.length));
        }
      }
      c.force(true);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static double storeWrite(Path scratch, long size, byte[] pattern, long syncEvery) throws IOException {
    clean(scratch);
    FileSlotStore store = FileSlotStore.init(scratch, size);
    long start = System.nanoTime();
    SlotWriter w = store.openWriter(new ImageSpec(URI.create("https://fw.example/bench.bin"), size, null, null)).block();
    long synced = 0;
    for (long at = 0; at < size; at += CHUNK) {
      w.write(ByteBuffer.wrap(pattern, (int) (at % pattern.length), CHUNK));
      if (w.position() - synced >= syncEvery) {
        w.sync("\"bench\"");
        synced = w.position();
      }
    }
    w.commit(new ImageMetadata(size, Sha256.digest(new byte[0]), URI.create("https://fw.example/bench.bin"), null));
    w.release();
    return (System.nanoTime() - start) / 1e9;
  }

  private static void clean(Path scratch) throws IOException {
    if (!Files.exists(scratch)) {
      return;
    }
    try (Stream<Path> files = Files.walk(scratch)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
