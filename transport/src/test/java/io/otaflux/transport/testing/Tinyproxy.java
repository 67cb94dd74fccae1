package io.otaflux.transport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * A real HTTP CONNECT proxy: Debian's {@code tinyproxy} (1.11), started in the foreground
 * ({@code -d}) on a free port of 127.0.0.1 with a generated configuration, and stopped by
 * {@link #close()}. It tunnels only to the ports given ({@code ConnectPort}), so any other port is
 * refused with 403; with {@code LogLevel Info} it logs {@code CONNECT host:port} per tunnel.
 */
public final class Tinyproxy implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path log;

  private Tinyproxy(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts tinyproxy, tunnelling to {@code connectPorts} only.
   *
   * @param dir where its configuration and log go
   * @param user with {@code password}: Basic proxy authentication required; null: none
   * @param password the password
   * @param connectPorts the only ports CONNECT may reach
   * @return the running proxy, accepting connections
   */
  public static Tinyproxy start(Path dir, @Nullable String user, @Nullable String password, int... connectPorts) {
    try {
      int port = freePort();
      Path log = dir.resolve("tinyproxy.log");
      Path conf = dir.resolve("tinyproxy.conf");
      StringBuilder ports = new StringBuilder();
      for (int p : connectPorts) {
        ports.append("ConnectPort ").append(p).append('\n');
      }
      Files.writeString(conf, "Port " + port + "\nListen 127.0.0.1\n" + ports + "LogLevel Info\n"
          + "LogFile \"" + log + "\"\nMaxClients 20\nTimeout 60\n"
          + (user != null ? "BasicAuth " + user + " " + password + "\n" : ""), StandardCharsets.UTF_8);
      Process process = new ProcessBuilder("tinyproxy", "-d", "-c", conf.toString())
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("tinyproxy.out").toFile())
          .start();
      Tinyproxy proxy = new Tinyproxy(process, port, log);
      Instant deadline = Instant.now().plusSeconds(10);
      while (!proxy.accepts()) {
        if (!process.isAlive() || Instant.now().isAfter(deadline)) {
          process.destroy();
          throw new IllegalStateException("tinyproxy did not start: "
              + Files.readString(dir.resolve("tinyproxy.out"), StandardCharsets.UTF_8));
        }
        Thread.sleep(20);
      }
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("Is tinyproxy installed (apt-get install tinyproxy)?", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A port of 127.0.0.1 where nothing listens (a proxy that is down).
   *
   * @return the port
   */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean accepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** @return the proxy's port on 127.0.0.1 */
  public int port() {
    return port;
  }

  /** @return {@code http://127.0.0.1:port} */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** @return what tinyproxy logged so far */
  public String log() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Waits a little for {@code text} in the log (tinyproxy writes it after the tunnel opened).
   *
   * @param text what to wait for
   * @param wait how long at most
   * @return the log then
   */
  public String logOnceContains(String text, Duration wait) {
    Instant deadline = Instant.now().plus(wait);
    String now = log();
    while (!now.contains(text) && Instant.now().isBefore(deadline)) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = log();
    }
    return now;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
