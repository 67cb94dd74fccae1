package io.otaflux.transport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real server that speaks only TLS 1.1: OpenSSL's {@code s_server -tls1_1} (at security level
 * 0, which OpenSSL 3 needs for TLS 1.1) as a child process on a free port of 127.0.0.1,
 * presenting a {@link TestPki.Identity}. It answers a TLS 1.2/1.3 ClientHello with a TLS 1.1
 * ServerHello, as an outdated device or appliance does. Needs the {@code openssl} command
 * (Debian package {@code openssl}).
 */
public final class OldTlsServer implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path dir;

  private OldTlsServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  /**
   * Starts {@code openssl s_server -tls1_1} presenting {@code identity} and waits until it accepts.
   *
   * @param identity key and chain
   * @return the started server
   */
  public static OldTlsServer start(TestPki.Identity identity) {
    try {
      Path dir = Files.createTempDirectory("otaflux-old-tls");
      Path cert = dir.resolve("chain.pem");
      Path key = dir.resolve("key.pem");
      Files.writeString(cert, Pems.of(identity.chain().toArray(new java.security.cert.X509Certificate[0])),
          StandardCharsets.US_ASCII);
      Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(identity.key().getEncoded())
          + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      Process process = new ProcessBuilder(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-tls1_1",
          "-cipher", "DEFAULT@SECLEVEL=0", "-cert", cert.toString(), "-key", key.toString(), "-www"))
          .redirectErrorStream(true).redirectOutput(dir.resolve("s_server.log").toFile()).start();
      // ready once it accepts a TCP connection (a bounded wait, not a sleep)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        try (java.net.Socket probe = new java.net.Socket()) {
          probe.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
          break;
        } catch (IOException notYet) {
          if (!process.isAlive() || System.nanoTime() > deadline) {
            process.destroyForcibly();
            throw new IllegalStateException("openssl s_server -tls1_1 did not start: "
                + Files.readString(dir.resolve("s_server.log")), notYet);
          }
          Thread.onSpinWait();
          try {
            process.waitFor(50, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      }
      return new OldTlsServer(process, port, dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @return the port */
  public int port() {
    return port;
  }

  /**
   * The URL of {@code path}, with host {@code localhost}.
   *
   * @param path the path
   * @return the URL
   */
  public String url(String path) {
    return "https://localhost:" + port + path;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a temp directory left behind
    }
  }
}
