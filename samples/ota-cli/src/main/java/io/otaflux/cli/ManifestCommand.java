package io.otaflux.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;

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

  /** {@code ota manifest create IMAGE --version V --url URL --key KEY}. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Print a signed JSON manifest (version, size, sha256, url, signature, key id) for IMAGE.")
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

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      Manifest manifest = Manifest.builder().version(version).url(url).image(image).sign(SigningKey.read(key));
      spec.commandLine().getOut().println(manifest.json().strip());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
