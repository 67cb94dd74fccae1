package io.otaflux.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.otaflux.manifest.TrustedKeys;

import picocli.CommandLine.Option;

/** {@code --trusted-key}: who may sign manifests. */
final class ManifestOptions {

  @Option(names = "--trusted-key", paramLabel = "FILE",
      description = "Public key (PEM) allowed to sign manifests. Repeatable (key rotation). With keys given, nothing "
          + "is activated without a valid signature.")
  List<Path> trustedKeys = new ArrayList<>();

  TrustedKeys keys() {
    return trustedKeys.isEmpty() ? TrustedKeys.skipSignatureCheck() : TrustedKeys.read(trustedKeys);
  }
}
