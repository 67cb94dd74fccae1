import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import io.otaflux.delta.ChunkIndex;
import io.otaflux.delta.Chunking;
import io.otaflux.delta.Compression;
import io.otaflux.delta.PublishedImage;

/**
 * Bytes a device fetches for a delta, per chunking: java -cp CORE_CLASSPATH DeltaSizes.java OLD NEW LEVEL CHUNKING...
 * where CHUNKING is fixed:SIZE or cdc:MIN:AVG:MAX. Prints one line per chunking.
 */
public class DeltaSizes {
  public static void main(String[] args) throws Exception {
    Path old = Path.of(args[0]);
    Path fresh = Path.of(args[1]);
    int level = Integer.parseInt(args[2]);
    long size = Files.size(fresh);
    Path dir = Files.createTempDirectory("deltasizes");
    Path image = dir.resolve(fresh.getFileName());
    Files.copy(fresh, image, StandardCopyOption.REPLACE_EXISTING);
    System.out.printf("%-22s %8s %12s %10s %10s %9s %7s %7s %10s %6s%n", "chunking", "chunks", "chunksfile", "index",
        "fetched", "requests", "fetch%", "+index%", "missing", "s");
    for (int i = 3; i < args.length; i++) {
      String[] p = args[i].split(":");
      Chunking c = p[0].equals("fixed") ? Chunking.fixed(Integer.parseInt(p[1]))
          : Chunking.contentDefined(Integer.parseInt(p[1]), Integer.parseInt(p[2]), Integer.parseInt(p[3]));
      long t0 = System.nanoTime();
      PublishedImage files = PublishedImage.of(image).compression(Compression.ZSTD).delta(true).chunking(c)
          .level(level).write();
      ChunkIndex index = ChunkIndex.parse(Files.readAllBytes(files.indexFile().orElseThrow()));
      long[] cost = index.cost(old);
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("%-22s %8d %12d %10d %10d %9d %6.2f%% %6.2f%% %10d %6.1f%n", args[i], files.chunks(),
          Files.size(files.chunksFile().orElseThrow()), files.indexSize(), cost[0], cost[1], 100.0 * cost[0] / size,
          100.0 * (cost[0] + files.indexSize()) / size, cost[3], s);
    }
  }
}
