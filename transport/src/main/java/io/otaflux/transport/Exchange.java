package io.otaflux.transport;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.UpdateRequest;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;

/**
 * The request set-up every fetch of one {@link UpdateRequest} shares (the whole image, a range, several
 * ranges): credentials on the request's origin only, redirects followed by hand (https only, at most
 * the configured number, loops refused, each one logged; Reactor Netty's {@code followRedirect}
 * would hand back the last 3xx of a loop as the answer), the status and headers complete within the
 * idle timeout, and failures mapped by type with the server's TLS version read from its first
 * record. Plain operator chains: the subscriber's {@code Context} reaches the client's hooks.
 * Not thread-safe across requests: one request's hops run one after the other.
 */
final class Exchange {

  private static final Logger log = LoggerFactory.getLogger(HttpsFirmwareSource.class);

  /** What an answer's status and headers lead to: the body's items, or (for a 3xx) the next hop. */
  @FunctionalInterface
  interface Answer<T> {
    /**
     * Reads an answer that is not a redirect; may throw {@link OtaException} (the connection is then
     * closed).
     */
    Publisher<T> read(URI uri, HttpClientResponse response, Connection connection);
  }

  /** A redirect to follow. */
  private record Redirect(String location) {
  }

  /** An answer that says to ask again in another way (its connection is closed). */
  static final class AskAgain extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AskAgain(String why) {
      super(why, null, false, false);
    }
  }

  /** How a failed exchange is told to the user. */
  @FunctionalInterface
  interface Failure {
    OtaException of(Throwable error, URI uri, TlsVersionWatch tls);
  }

  private final URI origin;
  private final @Nullable Credentials credentials;
  private final Redirects redirects;
  private final Duration idleTimeout;
  private final Scheduler timer;
  private final Failure failure;
  private volatile boolean onOrigin = true;

  Exchange(URI origin, @Nullable Credentials credentials, int maxRedirects, Duration idleTimeout, Scheduler timer,
      Failure failure) {
    this.origin = origin;
    this.credentials = credentials;
    this.redirects = new Redirects(origin, maxRedirects);
    this.idleTimeout = idleTimeout;
    this.timer = timer;
    this.failure = failure;
  }

  /** The exchanges of {@code request} on a source's transport. */
  static Exchange of(HttpsFirmwareSource.Transport transport, UpdateRequest request) {
    return new Exchange(request.uri(), request.credentials().orElse(null), transport.maxRedirects(),
        transport.idleTimeout(), transport.timer(), transport::failure);
  }

  URI origin() {
    return origin;
  }

  /**
   * A GET of {@code uri} on {@code client} (a new connection for each hop, each with its own TLS
   * version watch) with {@code headers} added, following redirects; the answer that is not a
   * redirect is read by {@code answer}.
   */
  <T> Flux<T> get(HttpClient client, URI uri, Consumer<HttpHeaders> headers, Answer<T> answer) {
    return get(client, uri, null, headers, answer);
  }

  /**
   * As {@link #get(HttpClient, URI, Consumer, Answer)}, on a client that {@code shared} already
   * watches (a pooled client: changing its channel set-up per request would change its pool).
   */
  <T> Flux<T> get(HttpClient client, URI uri, @Nullable TlsVersionWatch shared, Consumer<HttpHeaders> headers,
      Answer<T> answer) {
    return Flux.defer(() -> {
      TlsVersionWatch tls = shared != null ? shared : new TlsVersionWatch();
      if (!Redirects.sameOrigin(uri, origin)) {
        onOrigin = false;
      }
      Credentials auth = credentials != null && onOrigin ? credentials : null;
      Sinks.One<Boolean> sent = Sinks.one();
      Sinks.One<Boolean> answered = Sinks.one();
      // the idle timeout restarts with every byte, so a server dripping its headers (slowloris) would
      // hold the update forever: the status and headers must be complete within the idle timeout
      Mono<Long> headerDeadline = sent.asMono()
          .then(Mono.delay(idleTimeout, timer))
          .takeUntilOther(answered.asMono())
          .switchIfEmpty(Mono.never());
      Flux<Object> answers = (shared != null ? client : tls.on(client))
          .headers(h -> {
            if (auth != null) {
              h.set(HttpHeaderNames.AUTHORIZATION, auth.authorization());
            }
            headers.accept(h);
          })
          .doAfterRequest((request, connection) -> sent.tryEmitValue(Boolean.TRUE))
          .get().uri(uri)
          .responseConnection((response, connection) -> {
            answered.tryEmitValue(Boolean.TRUE);
            // the answer has come: from now on the body's own idle watch counts silence
            connection.removeHandler(NettyPipeline.ResponseTimeoutHandler);
            try {
              int code = response.status().code();
              if (Redirects.isRedirect(code)) {
                String location = response.responseHeaders().get(HttpHeaderNames.LOCATION);
                if (location == null || location.isBlank()) {
                  throw OtaException.of(Detail.MALFORMED_RESPONSE, "The server answered " + code + " (a redirect) for "
                      + uri + " without saying where to; ask its operator.");
                }
                connection.dispose();
                return Mono.just(new Redirect(location));
              }
              // from here the connection is ours: Reactor Netty closes it on a cancel only until it has
              // handed the answer on, so a cancel that comes now (the header deadline firing on the timer
              // thread as the answer arrives, an abort) must close it, or it stays open for good
              return Flux.<Object>from(answer.read(uri, response, connection)).doOnCancel(connection::dispose);
            } catch (RuntimeException e) {
              connection.dispose();
              return Mono.error(e);
            }
          })
          .timeout(headerDeadline, item -> Mono.never())
          .onErrorMap(e -> !(e instanceof AskAgain), e -> e instanceof TimeoutException
              ? OtaException.transientFailure(Detail.TIMEOUT, Failures.origin(uri) + " sent no answer within "
                  + Failures.human(idleTimeout) + " (its status and headers were not complete).", null)
              : failure.of(e, uri, tls));
      return answers.switchOnFirst((first, all) -> {
        Object value = first.get();
        if (value instanceof Redirect) {
          URI next = redirects.next(uri, ((Redirect) value).location());
          log.debug("{} redirects to {}", uri, next);
          return get(client, next, shared, headers, answer);
        }
        @SuppressWarnings("unchecked")
        Flux<T> items = (Flux<T>) (Flux<?>) all;
        return items;
      });
    });
  }

  /**
   * The failure for a status that is neither a success nor a redirect, saying when credentials were
   * kept back because the answer came from another origin.
   */
  OtaException status(URI uri, HttpClientResponse response) {
    int code = response.status().code();
    HttpHeaders headers = response.responseHeaders();
    OtaException failure = Failures.status(code, response.status().reasonPhrase(), uri,
        headers.get(HttpHeaderNames.RETRY_AFTER), headers.get(HttpHeaderNames.DATE),
        Instant.ofEpochMilli(timer.now(TimeUnit.MILLISECONDS)));
    if ((code == 401 || code == 403) && credentials != null && !onOrigin) {
      return failure.withMessage(failure.getMessage() + " The credentials were not sent: they go only to "
          + Failures.origin(origin) + ", and this answer came from another origin after a redirect.");
    }
    return failure;
  }

  /**
   * The first item of {@code answers}, without cancelling them afterwards: an opened download keeps
   * its connection (the answers complete when it is read or discarded). Cancelled before that item,
   * the answers are cancelled and the connection closed.
   */
  static <T> Mono<T> first(Flux<T> answers) {
    AtomicReference<@Nullable Disposable> running = new AtomicReference<>();
    AtomicBoolean delivered = new AtomicBoolean();
    return answers.publish().autoConnect(1, running::set).next()
        .doOnNext(item -> delivered.set(true))
        .doOnCancel(() -> {
          Disposable r = running.get();
          if (r != null && !delivered.get()) {
            r.dispose();
          }
        });
  }
}
