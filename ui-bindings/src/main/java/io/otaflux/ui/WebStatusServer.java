package io.otaflux.ui;

import java.net.URI;
import java.time.Duration;

import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;

/**
 * A running status page: where it listens, and how to stop it.
 *
 * <p>Closing the page stops serving and ends the open event streams; the update goes on (abort it
 * with the session).
 */
public final class WebStatusServer implements Disposable, AutoCloseable {

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(3);

  private final DisposableServer server;
  private final Disposable views;
  private final String token;

  WebStatusServer(DisposableServer server, Disposable views, String token) {
    this.server = server;
    this.views = views;
    this.token = token;
  }

  /**
   * The port the page listens on (the real one when port 0 was asked for).
   *
   * @return the bound port
   */
  public int port() {
    return server.port();
  }

  /**
   * The page's address, {@code http://127.0.0.1:PORT/}.
   *
   * @return the URL to open in a browser
   */
  public URI uri() {
    return URI.create("http://127.0.0.1:" + port() + "/");
  }

  /** The page's abort token (tests only: a browser reads it from the page). */
  String token() {
    return token;
  }

  /** Stops serving without waiting. */
  @Override
  public void dispose() {
    views.dispose();
    server.dispose();
  }

  @Override
  public boolean isDisposed() {
    return server.isDisposed();
  }

  /** Stops serving and waits (a few seconds at most) until the port is closed. */
  @Override
  public void close() {
    views.dispose();
    server.disposeNow(CLOSE_TIMEOUT);
  }

  /**
   * Completes when the page has stopped serving.
   *
   * @return the end of serving
   */
  public Mono<Void> onDispose() {
    return server.onDispose();
  }
}
