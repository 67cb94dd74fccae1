package io.otaflux.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;

import io.otaflux.delta.Compression;
import io.otaflux.delta.PublishedImage;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota manifest create}: the publisher's side of a signed manifest. */
@Command(name = "manifest", mixinStandardHelpOptions = true, description = "Signed manifests for publishers.",
    subcommands = ManifestCommand.Create.class)
final class ManifestCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a manifest command is missing: create");
  }

  /** {@code ota manifest create IMAGE --version V --url URL --key KEY [--delta] [--compress zstd|xz|gzip]}. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Print a signed JSON manifest (version, size, sha256, url, signature, key id) for IMAGE; with"
          + " --compress and --delta, also write the compressed image and its chunk index next to IMAGE.")
  static final class Create implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image file.")
    Path image;

    @Option(names = "--version", required = true, paramLabel = "V", description = "Semantic version, e.g. 2.0.0.")
    String version;

    @Option(names = "--url", required = true, paramLabel = "URL",
        description = "Where devices download the image: absolute, or relative to the manifest's URL.")
    String url;

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "The private key (PEM) to sign with.")
    Path key;

    @Option(names = "--compress", paramLabel = "zstd|xz|gzip",
        description = "Also write IMAGE compressed (IMAGE.zst, .xz or .gz); devices download that instead.")
    @Nullable String compress;

    @Option(names = "--delta", description = "Also write a chunk index (IMAGE.idx) and a chunked compressed IMAGE"
        + " (zstd unless --compress says otherwise): devices fetch only the chunks their running slot lacks.")
    boolean delta;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      SigningKey signer = SigningKey.read(key);
      Manifest.Builder builder = Manifest.builder().version(version).url(url);
      if (compress != null || delta) {
        Compression compression = compress == null ? Compression.ZSTD : Compression.ofLabel(compress);
        if (compression == Compression.NONE) {
          throw OtaException.of(OtaException.Detail.INVALID_REQUEST, "--compress takes zstd, xz or gzip.");
        }
        PublishedImage files = PublishedImage.of(image).compression(compression).delta(delta).write();
        builder.files(files);
        for (Path file : files.files()) {
          spec.commandLine().getErr().println("Wrote " + file);
        }
        spec.commandLine().getErr().flush();
      } else {
        builder.image(image);
      }
      Manifest manifest = builder.sign(signer);
      spec.commandLine().getOut().println(manifest.json().strip());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
