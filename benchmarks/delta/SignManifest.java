import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.io.InputStream;

import io.otaflux.Sha256;
import io.otaflux.delta.Compression;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;

/**
 * Signs a manifest for files published elsewhere (the benchmark compresses with the zstd CLI):
 * java -cp CORE_CLASSPATH SignManifest.java KEY.pem VERSION IMAGE TRANSFER.zst [INDEX CHUNKS]
 * URLs are the files' names (relative to the manifest). Prints the manifest.
 */
public class SignManifest {
  public static void main(String[] args) throws Exception {
    Path image = Path.of(args[2]);
    Path transfer = Path.of(args[3]);
    Manifest.Builder b = Manifest.builder().version(args[1]).url(image.getFileName().toString()).image(image)
        .transfer(transfer.getFileName().toString(), Files.size(transfer), digest(transfer), Compression.ZSTD);
    if (args.length > 5) {
      Path index = Path.of(args[4]);
      b.index(index.getFileName().toString(), Files.size(index), digest(index), Path.of(args[5]).getFileName().toString());
    }
    System.out.print(b.sign(SigningKey.read(Path.of(args[0]))).json());
  }

  static Sha256 digest(Path file) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    byte[] buffer = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        d.update(buffer, 0, n);
      }
    }
    return Sha256.of(d.digest());
  }
}
