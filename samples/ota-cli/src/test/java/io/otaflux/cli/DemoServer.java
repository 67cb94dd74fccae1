package io.otaflux.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The demo HTTPS firmware server a suite drives {@code ota} against, started before the suite's
 * {@code @BeforeAll} and closed after it: an image published from the start, the server's root
 * as a PEM file for {@code --root-cert}, and signing keys and signed manifests made by
 * {@code ota} itself.
 */
final class DemoServer implements BeforeAllCallback, AfterAllCallback {

  private final String imageName;
  private final byte @Nullable [] image;
  private FirmwareServer server;
  private Path work;
  private Path rootPem;
  private @Nullable Path keys;

  /** A server that publishes nothing until the suite does. */
  DemoServer() {
    this("", null);
  }

  /** A server publishing {@code image} as {@code name} ({@link #imageUrl()}) from the start. */
  DemoServer(String name, byte @Nullable [] image) {
    this.imageName = name;
    this.image = image;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    work = Files.createTempDirectory("ota-demo-server");
    server = FirmwareServer.start();
    rootPem = work.resolve("root.pem");
    Files.writeString(rootPem, DemoPki.pem(server.pki().root()), StandardCharsets.US_ASCII);
    if (image != null) {
      server.publish(imageName, image);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    server.close();
    try (Stream<Path> files = Files.walk(work)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  FirmwareServer server() {
    return server;
  }

  /** The URL of the image given to the constructor. */
  URI imageUrl() {
    return server.uri(imageName);
  }

  /** {@code size} random bytes from {@code seed}. */
  static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** The server's root certificate as a PEM file, for {@code --root-cert}. */
  Path rootPem() {
    return rootPem;
  }

  /** The arguments of {@code ota update URL} into {@code slots}, trusting this server, without a progress bar. */
  List<String> update(URI url, Path slots, String... extra) {
    List<String> args = new ArrayList<>(List.of("update", url.toString(), "--slots", slots.toString(), "--root-cert",
        rootPem.toString(), "--no-progress"));
    args.addAll(List.of(extra));
    return args;
  }

  /** The suite's signing key pair, made by {@code ota keygen} on first use. */
  Path keys() throws IOException, InterruptedException {
    if (keys == null) {
      keys = keygen("keys");
    }
    return keys;
  }

  /** A signing key pair made by {@code ota keygen} in {@code work()/name}. */
  Path keygen(String name) throws IOException, InterruptedException {
    Path dir = work.resolve(name);
    OtaProcess.Run run = OtaProcess.run("keygen", "--out", dir.toString());
    assertThat(run.exitCode()).as(run.all()).isZero();
    return dir;
  }

  /** A directory that lives as long as the server. */
  Path work() {
    return work;
  }

  /**
   * Writes {@code image} to {@code work()/name} and signs it with {@code ota manifest create}
   * (image URL {@code name}, {@code extra} options added); publishes the manifest as
   * {@code manifest} and returns the run.
   */
  OtaProcess.Run signedManifest(String name, byte[] image, String version, Path keys, String manifest,
      String... extra) throws IOException, InterruptedException {
    Path file = work.resolve(name);
    Files.write(file, image);
    List<String> args = new ArrayList<>(List.of("manifest", "create", file.toString(), "--version", version, "--url",
        name, "--key", keys.resolve(KeygenCommand.PRIVATE).toString()));
    args.addAll(List.of(extra));
    OtaProcess.Run run = OtaProcess.run(args);
    assertThat(run.exitCode()).as(run.all()).isZero();
    server.publish(manifest, run.stdout().getBytes(StandardCharsets.UTF_8));
    return run;
  }
}
