package io.otaflux.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.manifest.SigningKey;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota keygen}: an Ed25519 key pair for signing manifests. */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = "Write an Ed25519 key pair (PEM) for signing manifests: keep the private key offline, give devices "
        + "the public one (--trusted-key).")
final class KeygenCommand implements Callable<Integer> {

  static final String PRIVATE = "ota-signing-key.pem";
  static final String PUBLIC = "ota-signing-key.pub.pem";

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the two files.")
  Path out;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    Path privateFile = out.resolve(PRIVATE);
    Path publicFile = out.resolve(PUBLIC);
    if (Files.exists(privateFile) || Files.exists(publicFile)) {
      throw OtaException.of(Reason.USAGE, "A key already exists in " + out + "; move it away or choose another --out: "
          + "a signing key is never overwritten.");
    }
    try {
      Files.createDirectories(out);
      SigningKey key = SigningKey.generate();
      key.write(privateFile);
      Files.writeString(publicFile, key.publicKey().pem(), StandardCharsets.US_ASCII);
      spec.commandLine().getOut().println("Private key (keep it secret, sign with it): " + privateFile);
      spec.commandLine().getOut().println("Public key (give it to devices as --trusted-key): " + publicFile);
      spec.commandLine().getOut().println("Key id: " + key.publicKey().keyId());
      spec.commandLine().getOut().flush();
      return 0;
    } catch (IOException e) {
      throw OtaException.of(Reason.STORAGE, "Cannot write the keys to " + out + ": " + e.getMessage() + ".", e);
    }
  }
}
