import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;

/**
 * The server side of the delta wall-time and wire benchmark: serves files over HTTPS (the demo
 * firmware server: ETags, bounded Range requests) behind a TCP proxy that counts every byte both
 * ways (TLS records, headers, handshakes) and can throttle the server-to-device direction.
 *
 * java -cp DEMO_SERVER_CLASSPATH DeltaServer.java ROOT_PEM_OUT BYTES_PER_SECOND_OR_0 NAME=PATH...
 * Prints "proxy PORT", then after each closed connection "bytes DOWN UP connections N".
 */
public class DeltaServer {
  static final AtomicLong down = new AtomicLong();
  static final AtomicLong up = new AtomicLong();
  static final AtomicLong connections = new AtomicLong();

  public static void main(String[] args) throws Exception {
    FirmwareServer server = FirmwareServer.start();
    Files.writeString(Path.of(args[0]), DemoPki.pem(server.pki().root()));
    long rate = Long.parseLong(args[1]);
    for (int i = 2; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      server.publish(kv[0], Files.readAllBytes(Path.of(kv[1])));
    }
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    System.out.println("proxy " + listener.getLocalPort());
    System.out.flush();
    while (true) {
      Socket device = listener.accept();
      Socket origin = new Socket(InetAddress.getLoopbackAddress(), server.port());
      connections.incrementAndGet();
      Thread a = new Thread(() -> pump(device, origin, up, 0));
      Thread b = new Thread(() -> pump(origin, device, down, rate));
      a.start();
      b.start();
      new Thread(() -> {
        try {
          a.join();
          b.join();
        } catch (InterruptedException e) {
          return;
        }
        System.out.println("bytes " + down.get() + " " + up.get() + " connections " + connections.get());
        System.out.flush();
      }).start();
    }
  }

  static void pump(Socket from, Socket to, AtomicLong counter, long rate) {
    byte[] buffer = new byte[16 * 1024];
    long start = System.nanoTime();
    long sent = 0;
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        out.write(buffer, 0, n);
        out.flush();
        counter.addAndGet(n);
        sent += n;
        if (rate > 0) {
          long due = start + sent * 1_000_000_000L / rate;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
      }
    } catch (Exception e) {
      // the other side closed
    } finally {
      try {
        from.close();
        to.close();
      } catch (Exception e) {
        // closed already
      }
    }
  }
}
