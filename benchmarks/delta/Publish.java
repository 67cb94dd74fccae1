import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import io.otaflux.delta.Compression;
import io.otaflux.delta.PublishedImage;

/**
 * Publishes an image as `ota manifest create --delta --compress zstd` does, at a given zstd level, into a
 * directory: java -cp CORE_CLASSPATH Publish.java IMAGE LEVEL OUTDIR (writes IMAGE.zst, IMAGE.idx,
 * IMAGE.chunks.zst there; sign them with SignManifest.java).
 */
public class Publish {
  public static void main(String[] args) throws Exception {
    Path image = Path.of(args[0]);
    Path out = Path.of(args[2]);
    Files.createDirectories(out);
    Path copy = out.resolve(image.getFileName());
    Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
    PublishedImage files = PublishedImage.of(copy).compression(Compression.ZSTD).delta(true)
        .level(Integer.parseInt(args[1])).write();
    Files.delete(copy);
    System.out.println(files.transferFile() + " " + files.indexFile().orElseThrow() + " " + files.chunksFile().orElseThrow());
  }
}
