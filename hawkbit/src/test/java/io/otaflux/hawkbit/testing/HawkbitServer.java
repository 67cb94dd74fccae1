package io.otaflux.hawkbit.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit extension: the real Eclipse hawkBit update server from {@code <repo>/../shared/hawkbit/start-tls.sh}, started
 * once per test run (it takes half a minute) on a free loopback port and stopped when the run ends.
 * Polling is allowed down to 1 s (the server's sleep is 1 s) so the tests do not wait minutes.
 * Missing server: the tests are skipped, or fail when {@code CI=true}.
 */
public final class HawkbitServer implements BeforeAllCallback, ParameterResolver {

  /** The running server. */
  public static final class Running implements AutoCloseable {
    public final Path dir;
    final Path script;
    public final int port;
    private Process starter;

    private final boolean owned;

    Running(Path dir, Path script, int port, boolean owned) {
      this.dir = dir;
      this.script = script;
      this.port = port;
      this.owned = owned;
    }

    /** Whether this run started the server (and may restart it). */
    public boolean isOwned() {
      return owned;
    }

    public URI uri() {
      return URI.create("https://localhost:" + port);
    }

    public Path certificate() {
      return dir.resolve("hb.pem");
    }

    /**
     * A device whose client certificate the server accepts: the server asks every client for one
     * ({@code server.ssl.client-auth=want}, so clients without one are served too) and refuses any
     * it does not trust.
     */
    public DeviceFiles device() {
      return new DeviceFiles(dir.resolve("device.crt"), dir.resolve("device.key"));
    }

    /** The access log's lines so far: {@code "GET /path HTTP/1.1 cert=..."}, {@code cert=-} without a client certificate. */
    public java.util.List<String> accessLog() throws IOException {
      Path logs = dir.resolve("access");
      if (!Files.isDirectory(logs)) {
        return java.util.List.of();
      }
      java.util.List<String> lines = new java.util.ArrayList<>();
      try (Stream<Path> files = Files.list(logs)) {
        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
          lines.addAll(Files.readAllLines(f));
        }
      }
      return lines;
    }

    /**
     * The access log once a line contains {@code text} (Tomcat writes it after the answer, buffered), or as it is
     * after {@code wait}.
     */
    public java.util.List<String> accessLogOnceContains(String text, java.time.Duration wait)
        throws IOException, InterruptedException {
      long deadline = System.nanoTime() + wait.toNanos();
      java.util.List<String> lines = accessLog();
      while (lines.stream().noneMatch(l -> l.contains(text)) && System.nanoTime() < deadline) {
        Thread.sleep(200); // waiting for another process's file
        lines = accessLog();
      }
      return lines;
    }

    /** Whether this server asks for client certificates (not one attached by hand). */
    public boolean asksForClientCertificates() {
      return Files.exists(device().certificate());
    }

    /** An SSL context trusting the server's certificate as it is now. */
    public SSLContext sslContext() {
      return trusting(certificate());
    }

    public void start() throws IOException, InterruptedException {
      ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), dir.toString(), Integer.toString(port))
          .directory(dir.toFile()) // the artifact repository lands in DIR/artifactrepo
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("start.out").toFile());
      pb.environment().put("HAWKBIT_CONTROLLER_MINPOLLINGTIME", "00:00:01");
      pb.environment().put("HAWKBIT_CONTROLLER_POLLINGTIME", "00:00:01");
      // a file database, so a restarted server still knows its targets and actions; WRITE_DELAY=0 writes
      // each commit at once (H2 otherwise keeps up to ~1 s of commits in memory, and the restart test's
      // kill -9 lost a just-created action: hawkBit answered 404 for its feedback after the restart)
      pb.environment().put("SPRING_DATASOURCE_URL",
          "jdbc:h2:file:" + dir.resolve("db") + ";MODE=LEGACY;WRITE_DELAY=0;");
      // mutual TLS on offer: a client certificate is asked for, checked when given, not required
      pb.environment().put("SERVER_SSL_CLIENTAUTH", "want");
      pb.environment().put("SERVER_SSL_TRUSTSTORE", clientCas().toString());
      pb.environment().put("SERVER_SSL_TRUSTSTOREPASSWORD", "changeit");
      pb.environment().put("SERVER_SSL_TRUSTSTORETYPE", "PKCS12");
      // an access log naming whether each request came with a client certificate ("-" when not)
      pb.environment().put("SERVER_TOMCAT_ACCESSLOG_ENABLED", "true");
      pb.environment().put("SERVER_TOMCAT_ACCESSLOG_DIRECTORY", dir.resolve("access").toString());
      pb.environment().put("SERVER_TOMCAT_ACCESSLOG_BUFFERED", "false");
      pb.environment().put("SERVER_TOMCAT_ACCESSLOG_PATTERN", "%r cert=%{jakarta.servlet.request.X509Certificate}r");
      starter = pb.start();
      boolean ready = starter.waitFor(150, TimeUnit.SECONDS) && starter.exitValue() == 0;
      // the script gives up after 90 s; on a busy shared machine the server may need longer
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
      while (!ready && alive() && System.nanoTime() < deadline) {
        ready = answers();
        if (!ready) {
          Thread.sleep(1000); // waiting for another process, not for our own code
        }
      }
      if (!ready) {
        stop();
        throw new IllegalStateException("hawkBit did not start: " + Files.readString(dir.resolve("start.out"))
            + " (see " + dir.resolve("server.log") + ")");
      }
    }

    /** A device CA (the trust store the server checks client certificates with) and one device under it, once. */
    private Path clientCas() throws IOException {
      Path store = dir.resolve("client-cas.p12");
      if (Files.exists(store)) {
        return store;
      }
      io.otaflux.transport.testing.TestPki.Ca ca = io.otaflux.transport.testing.TestPki.shared()
          .newRoot("CN=hawkBit Test Device CA,O=OtaFlux Tests");
      ca.client("gw-mtls").writePem(device().certificate(), device().key());
      try {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("devices", ca.certificate());
        try (java.io.OutputStream out = Files.newOutputStream(store)) {
          ks.store(out, "changeit".toCharArray());
        }
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      return store;
    }

    private boolean alive() throws IOException {
      Path pid = dir.resolve("server.pid");
      return Files.exists(pid) && ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()))
          .map(ProcessHandle::isAlive).orElse(false);
    }

    private boolean answers() {
      try {
        return new Mgmt(this).get("/rest/v1/targets") != null;
      } catch (RuntimeException e) {
        return false;
      }
    }

    public void stop() throws IOException {
      stop(false);
    }

    /** Kills the server at once (SIGKILL), as a crash or a power cut would: requests in flight break. */
    public void kill() throws IOException {
      stop(true);
    }

    private void stop(boolean kill) throws IOException {
      Path pid = dir.resolve("server.pid");
      if (!Files.exists(pid)) {
        return;
      }
      long id = Long.parseLong(Files.readString(pid).strip());
      Optional<ProcessHandle> handle = ProcessHandle.of(id);
      if (handle.isPresent()) {
        if (kill) {
          handle.get().destroyForcibly();
        } else {
          handle.get().destroy();
        }
        try {
          handle.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          handle.get().destroyForcibly();
        }
      }
      Files.delete(pid);
    }

    /** The file hawkBit stores an artifact in (named by its SHA-1). */
    public Path artifactFile(String sha1) throws IOException {
      try (Stream<Path> files = Files.walk(dir.resolve("artifactrepo"))) {
        return files.filter(p -> p.getFileName().toString().equals(sha1)).findFirst()
            .orElseThrow(() -> new IllegalStateException("no stored artifact " + sha1));
      }
    }

    @Override
    public void close() throws IOException {
      if (owned) {
        stop();
      }
    }
  }

  /**
   * A device's TLS client certificate and its private key.
   *
   * @param certificate the PEM file with the certificate
   * @param key the PEM file with the private key
   */
  public record DeviceFiles(Path certificate, Path key) {
  }

  public static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("hawkbit", cert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * An SSL context trusting whatever certificate {@code pem} holds at each handshake (a restarted
   * server has a new key).
   */
  public static SSLContext trustingCurrent(Path pem) {
    javax.net.ssl.X509ExtendedTrustManager reloading = new javax.net.ssl.X509ExtendedTrustManager() {
      private javax.net.ssl.X509ExtendedTrustManager now() {
        try (InputStream in = Files.newInputStream(pem)) {
          X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
          KeyStore ks = KeyStore.getInstance("PKCS12");
          ks.load(null, null);
          ks.setCertificateEntry("hawkbit", cert);
          TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
          tmf.init(ks);
          return (javax.net.ssl.X509ExtendedTrustManager) tmf.getTrustManagers()[0];
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
          throws java.security.cert.CertificateException {
        now().checkServerTrusted(chain, authType, engine);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
          throws java.security.cert.CertificateException {
        now().checkServerTrusted(chain, authType, socket);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType)
          throws java.security.cert.CertificateException {
        throw new java.security.cert.CertificateException("no host to check");
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
          throws java.security.cert.CertificateException {
        throw new java.security.cert.CertificateException("a client");
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket)
          throws java.security.cert.CertificateException {
        throw new java.security.cert.CertificateException("a client");
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType)
          throws java.security.cert.CertificateException {
        throw new java.security.cert.CertificateException("a client");
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new javax.net.ssl.TrustManager[] {reloading}, null);
      return ctx;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server(context);
  }

  private static Running server(ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(Running.class, k -> start(), Running.class);
  }

  /** {@code -Dhawkbit.dir}, else {@code <repository root>/../shared/hawkbit}, the root found by its {@code .git}. */
  static Path serverDir() {
    String property = System.getProperty("hawkbit.dir");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve(".git"))) {
        Path root = p.getParent() == null ? p : p.getParent();
        return root.resolve("shared").resolve("hawkbit");
      }
    }
    return dir.resolve("../../shared/hawkbit").normalize();
  }

  private static Running start() {
    String attach = System.getProperty("hawkbit.attach"); // DIR:PORT of a server started by hand (development)
    if (attach != null && !attach.isBlank()) {
      int colon = attach.lastIndexOf(':');
      return configured(new Running(Path.of(attach.substring(0, colon)), Path.of("start-tls.sh"),
          Integer.parseInt(attach.substring(colon + 1)), false));
    }
    Path script = serverDir().resolve("start-tls.sh");
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    boolean present = Files.isRegularFile(script) && Files.isRegularFile(script.resolveSibling("hawkbit-update-server.jar"));
    if (!present && ci) {
      throw new IllegalStateException("The hawkBit server is missing: expected " + script
          + " and hawkbit-update-server.jar beside it (<repo>/../shared/hawkbit/). CI must provide it.");
    }
    Assumptions.assumeTrue(present, "no hawkBit server at " + script + "; skipping the hawkBit tests");
    try {
      Path dir = Files.createTempDirectory("hawkbit-it");
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Running running = new Running(dir, script, port, true);
      running.start();
      return configured(running);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Running configured(Running running) {
    Mgmt mgmt = new Mgmt(running);
    mgmt.config("authentication.targettoken.enabled", true);
    mgmt.config("user.confirmation.flow.enabled", true);
    return running;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
    Class<?> type = parameter.getParameter().getType();
    return type == Running.class || type == Mgmt.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
    Running running = server(extension);
    return parameter.getParameter().getType() == Running.class ? running : new Mgmt(running);
  }
}
