import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The link of the delta wall-time and wire benchmark: a TCP proxy in front of an HTTPS server
 * (nginx, `benchmarks/server.sh`) that counts every byte both ways (TLS records, headers,
 * handshakes) and throttles the server-to-device direction to one shared rate: all connections
 * together get BYTES_PER_SECOND, and a connection that was idle earns no credit (a link, not a
 * per-connection shaper). No latency is added.
 *
 * java ThrottleProxy.java ORIGIN_PORT BYTES_PER_SECOND_OR_0
 * Prints "proxy PORT", then after each closed connection "bytes DOWN UP connections N".
 */
public class ThrottleProxy {
  static final AtomicLong down = new AtomicLong();
  static final AtomicLong up = new AtomicLong();
  static final AtomicLong connections = new AtomicLong();
  static final Object link = new Object();
  static long linkFree;

  public static void main(String[] args) throws Exception {
    int origin = Integer.parseInt(args[0]);
    long rate = Long.parseLong(args[1]);
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    System.out.println("proxy " + listener.getLocalPort());
    System.out.flush();
    while (true) {
      Socket device = listener.accept();
      Socket server = new Socket(InetAddress.getLoopbackAddress(), origin);
      connections.incrementAndGet();
      Thread a = new Thread(() -> pump(device, server, up, 0));
      Thread b = new Thread(() -> pump(server, device, down, rate));
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
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        if (rate > 0) {
          // the n bytes take the link from when it is free (now at the earliest) for n / rate
          long start;
          synchronized (link) {
            long now = System.nanoTime();
            start = Math.max(linkFree, now);
            linkFree = start + n * 1_000_000_000L / rate;
          }
          long wait = start + n * 1_000_000_000L / rate - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
        out.write(buffer, 0, n);
        out.flush();
        counter.addAndGet(n);
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
