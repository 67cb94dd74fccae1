package io.otaflux.samples.server;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.otaflux.Sha256;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * A small local HTTPS firmware server for the demo and the command's tests: serves images from
 * memory on 127.0.0.1 with ETags and {@code Range} requests, and redirects {@code /latest} to
 * the newest image.
 */
public final class FirmwareServer implements AutoCloseable {

  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");
  private static final int CHUNK = 64 * 1024;

  private final DemoPki pki;
  private final Map<String, byte[]> images = new ConcurrentHashMap<>();
  private final Map<String, String> redirects = new ConcurrentHashMap<>();
  private volatile Duration pace = Duration.ZERO;
  private volatile String latest = "";
  private final DisposableServer server;

  private FirmwareServer(DemoPki pki, int port) {
    this.pki = pki;
    this.server = HttpServer.create()
        .host("127.0.0.1")
        .port(port)
        .secure(spec -> spec.sslContext(serverContext(pki)))
        .handle(this::handle)
        .bindNow();
  }

  private static SslContext serverContext(DemoPki pki) {
    try {
      return SslContextBuilder.forServer(pki.leafKey(), pki.leaf(), pki.intermediate())
          .protocols("TLSv1.3", "TLSv1.2").build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the demo server's TLS context: " + e.getMessage(), e);
    }
  }

  /**
   * Starts a server on an ephemeral port with a fresh certificate chain.
   *
   * @return the running server
   */
  public static FirmwareServer start() {
    return start(DemoPki.generate(), 0);
  }

  /**
   * Starts a server with this chain on this port (0 for any).
   *
   * @param pki the chain to serve
   * @param port the port, or 0
   * @return the running server
   */
  public static FirmwareServer start(DemoPki pki, int port) {
    return new FirmwareServer(Objects.requireNonNull(pki, "pki"), port);
  }

  /**
   * Serves an image at {@code /name}; {@code /latest} redirects to the last one published.
   *
   * @param name the file name, e.g. {@code firmware-2.bin}
   * @param image the bytes (not copied)
   * @return the image's URL
   */
  public URI publish(String name, byte[] image) {
    images.put(name, image);
    latest = name;
    return uri(name);
  }

  /**
   * The bytes published under a name.
   *
   * @param name the file name
   * @return the bytes, or an empty array when nothing is published there
   */
  public byte[] get(String name) {
    return images.getOrDefault(name, new byte[0]);
  }

  /**
   * Answers {@code /path} with a 302 to {@code location} (another path, or any URL).
   *
   * @param path the path without the leading slash
   * @param location where it points
   * @return the redirecting URL
   */
  public URI redirect(String path, String location) {
    redirects.put(path, location);
    return uri(path);
  }

  /**
   * Slows every answer down: a pause before each 64 KiB of body (for demos of progress and abort).
   *
   * @param perChunk the pause, {@link Duration#ZERO} for full speed
   * @return this server
   */
  public FirmwareServer pace(Duration perChunk) {
    this.pace = Objects.requireNonNull(perChunk, "perChunk");
    return this;
  }

  /**
   * The URL of a path on this server.
   *
   * @param path a path without the leading slash
   * @return the URL
   */
  public URI uri(String path) {
    return URI.create("https://localhost:" + server.port() + "/" + path);
  }

  /**
   * The chain this server presents.
   *
   * @return the chain's certificates and key
   */
  public DemoPki pki() {
    return pki;
  }

  /**
   * The bound port.
   *
   * @return the port
   */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.disposeNow();
  }

  private Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
    String path = URI.create(request.uri()).getPath().replaceFirst("^/", "");
    String location = redirects.get(path);
    if (location != null) {
      return response.status(HttpResponseStatus.FOUND).header(HttpHeaderNames.LOCATION, location).send();
    }
    if (path.equals("latest") && !latest.isEmpty()) {
      return response.status(HttpResponseStatus.FOUND).header(HttpHeaderNames.LOCATION, "/" + latest).send();
    }
    byte[] image = images.get(path);
    if (image == null) {
      return response.status(HttpResponseStatus.NOT_FOUND).sendString(Mono.just("no such image\n")).then();
    }
    String etag = "\"" + Sha256.digest(image).hex().substring(0, 16) + "\"";
    long start = 0;
    long end = image.length - 1L;
    String range = request.requestHeaders().get(HttpHeaderNames.RANGE);
    String ifRange = request.requestHeaders().get(HttpHeaderNames.IF_RANGE);
    if (range != null && (ifRange == null || ifRange.equals(etag))) {
      Matcher m = RANGE.matcher(range.strip());
      if (m.matches()) {
        start = Long.parseLong(m.group(1));
        if (!m.group(2).isEmpty()) {
          end = Math.min(end, Long.parseLong(m.group(2)));
        }
        if (start >= image.length || end < start) {
          return response.status(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
              .header(HttpHeaderNames.CONTENT_RANGE, "bytes */" + image.length).send();
        }
        response.status(HttpResponseStatus.PARTIAL_CONTENT)
            .header(HttpHeaderNames.CONTENT_RANGE, "bytes " + start + "-" + end + "/" + image.length);
      }
    }
    int from = (int) start;
    int to = (int) end + 1;
    response.header(HttpHeaderNames.ETAG, etag)
        .header(HttpHeaderNames.ACCEPT_RANGES, "bytes")
        .header(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
        .header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(to - start));
    Flux<io.netty.buffer.ByteBuf> body = Flux.range(0, (to - from + CHUNK - 1) / CHUNK)
        .map(i -> Unpooled.wrappedBuffer(image, from + i * CHUNK, Math.min(CHUNK, to - from - i * CHUNK)));
    Duration delay = pace;
    return response.send(delay.isZero() ? body : body.delayElements(delay)).then();
  }
}
