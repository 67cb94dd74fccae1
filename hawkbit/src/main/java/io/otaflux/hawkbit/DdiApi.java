package io.otaflux.hawkbit;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.internal.Origin;
import io.otaflux.internal.Wrapping;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;

/**
 * The DDI resources of one controller over the JDK's HTTP client: GET, POST and PUT of JSON, the
 * token sent only to the server's origin, every failure an {@link OtaException} with a detail and
 * a sentence. No state beyond the configuration: safe to call from any thread.
 */
final class DdiApi {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final URI base;
  private final Origin origin;
  private final @Nullable Credentials credentials;
  private final Duration timeout;
  private final String controllerId;
  /** The proxy the calls go through ({@code host:port}, for sentences), or null. */
  private final @Nullable String proxy;
  /** {@code Proxy-Authorization} for the tunnel, or null; the JDK keeps proxy headers from the origin. */
  private final @Nullable String proxyAuthorization;

  DdiApi(HttpClient http, URI server, String tenant, String controllerId, @Nullable Credentials credentials,
      Duration timeout, @Nullable String proxy, @Nullable String proxyAuthorization) {
    this.http = http;
    this.proxy = proxy;
    this.proxyAuthorization = proxyAuthorization;
    String root = server.toString().endsWith("/") ? server.toString() : server + "/";
    this.base = URI.create(root + encode(tenant) + "/controller/v1/" + encode(controllerId));
    this.origin = Origin.of(server);
    this.credentials = credentials;
    this.timeout = timeout;
    this.controllerId = controllerId;
  }

  private static String encode(String segment) {
    return java.net.URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The controller's base resource, {@code SERVER/TENANT/controller/v1/ID}. */
  URI base() {
    return base;
  }

  /** {@code base/suffix}. */
  URI resolve(String suffix) {
    return URI.create(base + "/" + suffix);
  }

  /** The credentials for an artifact URL: the token only when it is on the server's origin. */
  Optional<Credentials> credentialsFor(URI artifact) {
    return credentials != null && origin.equals(Origin.of(artifact)) ? Optional.of(credentials) : Optional.empty();
  }

  Mono<JsonNode> get(URI uri) {
    return send(uri, "GET", null).map(body -> parse(uri, body));
  }

  Mono<Void> post(URI uri, Object body) {
    return send(uri, "POST", body).then();
  }

  Mono<Void> put(URI uri, Object body) {
    return send(uri, "PUT", body).then();
  }

  private Mono<String> send(URI uri, String method, @Nullable Object body) {
    return Mono.defer(() -> {
      if (!origin.equals(Origin.of(uri))) {
        // a link hawkBit sent that leaves its origin: the token must not go there
        return Mono.error(OtaException.of(Detail.BAD_RESPONSE, "hawkBit sent a link to " + Origin.of(uri)
            + ", another origin than the server " + origin + "; it is not followed (the token is for the server only)."));
      }
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
          .header("Accept", "application/hal+json, application/json");
      if (credentials != null) {
        request.header("Authorization", credentials.authorization());
      }
      if (proxyAuthorization != null) {
        request.header("Proxy-Authorization", proxyAuthorization);
      }
      if (body == null) {
        request.GET();
      } else {
        byte[] json;
        try {
          json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
          return Mono.error(OtaException.of(Detail.INVALID_REQUEST, "Cannot write the feedback as JSON: " + e, e));
        }
        request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(json));
      }
      return Mono.fromFuture(() -> http.sendAsync(request.build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)))
          .onErrorMap(e -> !(e instanceof OtaException), e -> io(uri, e))
          .flatMap(response -> {
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
              return Mono.just(response.body());
            }
            return Mono.error(status(uri, method, response));
          });
    });
  }

  private static JsonNode parse(URI uri, String body) {
    try {
      return body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "hawkBit's answer to " + uri.getPath()
          + " is not valid JSON (" + e.getOriginalMessage() + ").", e);
    }
  }

  private OtaException status(URI uri, String method, HttpResponse<String> response) {
    int status = response.statusCode();
    String what = method + " " + uri.getPath();
    switch (status) {
      case 401:
      case 403:
        return OtaException.httpStatus(status, "hawkBit refused controller " + controllerId + " (HTTP " + status
            + (status == 401 ? " Unauthorized" : " Forbidden") + "): the "
            + (credentials == null ? "request carried no token; give the target's security token"
                : "token is wrong, or this kind of token is not enabled for the tenant; check the token file against "
                    + "the target's security token in hawkBit")
            + ". Polling again with backoff.", false);
      case 404:
        return OtaException.httpStatus(status, "hawkBit has no such resource (HTTP 404 for " + what
            + "): check the server URL and the tenant.", false);
      case 409:
        return OtaException.httpStatus(status, "hawkBit answered 409 Conflict to " + what
            + ": the action is in another state than this device thought (closed or cancelled on the server).", false);
      case 410:
        return OtaException.httpStatus(status, "hawkBit answered 410 Gone to " + what
            + ": the action no longer exists on the server.", false);
      case 429: {
        OtaException e = OtaException.httpStatus(status, "hawkBit asked this device to slow down (HTTP 429).", true);
        return retryAfter(response).map(e::withRetryAfter).orElse(e);
      }
      default:
        boolean transientStatus = status >= 500;
        OtaException e = OtaException.httpStatus(status, "hawkBit answered HTTP " + status + " to " + what
            + (transientStatus ? "; trying again later." : "."), transientStatus);
        return transientStatus ? retryAfter(response).map(e::withRetryAfter).orElse(e) : e;
    }
  }

  private static Optional<Duration> retryAfter(HttpResponse<?> response) {
    return response.headers().firstValue("Retry-After").flatMap(DdiApi::parseRetryAfter);
  }

  /** A {@code Retry-After} in seconds (the HTTP-date form is rare here and read as absent). */
  static Optional<Duration> parseRetryAfter(String value) {
    try {
      long seconds = Long.parseLong(value.strip());
      return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(Math.min(seconds, 86_400)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private OtaException io(URI uri, Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String where = "hawkBit at " + origin;
    if (e instanceof HttpTimeoutException) {
      return OtaException.transientFailure(Detail.TIMEOUT, where + " did not answer within " + timeout.toSeconds()
          + " s.", e);
    }
    if (e instanceof ConnectException && proxy != null) {
      return OtaException.transientFailure(Detail.PROXY_FAILED, "Could not connect to the proxy " + proxy + " on the"
          + " way to " + where + "; check that it is up and the proxy setting (--proxy, https_proxy).", e);
    }
    if (e instanceof ConnectException) {
      return OtaException.transientFailure(Detail.CONNECTION_REFUSED, where + " refused the connection (is it "
          + "running?).", e);
    }
    if (e instanceof SSLException && closedByPeer(e)) {
      // the server hung up mid-handshake (restarting, or the network): not a verdict on trust
      return OtaException.transientFailure(Detail.CONNECTION_LOST, where + " closed the connection during the TLS"
          + " handshake; trying again later.", e);
    }
    if (e instanceof SSLHandshakeException || e.getCause() instanceof java.security.cert.CertificateException) {
      return OtaException.of(Detail.TRUST_FAILED, "The TLS handshake with " + where + " failed (" + e.getMessage()
          + "): check its root certificate (--root-cert) and the pins, and, if it requires a client certificate,"
          + " that one is given (--client-cert, --client-key) and issued by a CA it trusts.", e);
    }
    if (e instanceof SSLException) {
      return OtaException.transientFailure(Detail.CONNECTION_LOST, where + ": the TLS connection failed ("
          + e.getMessage() + ").", e);
    }
    if (e instanceof IOException && proxy != null) {
      // the JDK reports a refused tunnel as a plain IOException: through a proxy, name it
      return OtaException.transientFailure(Detail.PROXY_FAILED, where + " through the proxy " + proxy + ": the tunnel"
          + " was refused or the connection lost (" + e.getMessage() + "); check the proxy setting (--proxy,"
          + " https_proxy), its credentials, and that it allows CONNECT to the server's port.", e);
    }
    if (e instanceof IOException) {
      return OtaException.transientFailure(Detail.CONNECTION_LOST, where + ": the connection was lost ("
          + e.getMessage() + ").", e);
    }
    return Wrapping.wrap(e, OtaException.Reason.NETWORK, "Talking to " + where + " failed");
  }

  /** Whether an end of stream or a reset, not an alert, ended the TLS exchange. */
  private static boolean closedByPeer(Throwable error) {
    for (Throwable c = error.getCause(); c != null; c = c.getCause()) {
      if (c instanceof java.io.EOFException || c instanceof java.net.SocketException) {
        return true;
      }
    }
    return false;
  }
}
