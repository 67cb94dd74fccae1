package io.otaflux.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.SSLContext;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.transport.ClientKey;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.JdkTls;
import io.otaflux.transport.SpkiPin;
import io.otaflux.transport.TrustAnchors;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Option;

/** The options every download shares: trust anchors, pins, the client certificate, the idle timeout. */
final class HttpsOptions {

  private static final String CLIENT_CERT = "PEM file with this device's TLS client certificate (leaf first), for"
      + " servers that require mutual TLS. With --client-key.";
  private static final String CLIENT_KEY = "PEM file with the client certificate's private key (unencrypted)."
      + " With --client-cert.";

  @Option(names = "--root-cert", paramLabel = "FILE",
      description = "PEM file with trust anchors (root or intermediate). Repeatable. Default: the JDK's trust store.")
  List<Path> rootCerts = new ArrayList<>();

  @Option(names = "--pin", paramLabel = "sha256/BASE64",
      description = "SPKI SHA-256 that must appear in the validated chain. Repeatable: any one matching is enough.")
  List<String> pins = new ArrayList<>();

  /** Mutual TLS: this device's certificate and key, given together. */
  @Option(names = "--client-cert", paramLabel = "FILE", description = CLIENT_CERT)
  @Nullable Path clientCert;

  @Option(names = "--client-key", paramLabel = "FILE", description = CLIENT_KEY)
  @Nullable Path clientKey;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Units.DurationConverter.class,
      description = "Idle read timeout, e.g. 30s or 500ms (default: ${DEFAULT-VALUE}); the connect timeout is no longer.")
  Duration timeout;

  HttpsFirmwareSource source() {
    HttpsFirmwareSource source = HttpsFirmwareSource.create()
        .idleTimeout(timeout)
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(10)) < 0 ? timeout : Duration.ofSeconds(10));
    if (!rootCerts.isEmpty()) {
      source = source.trustAnchors(anchors());
    }
    if (!pins.isEmpty()) {
      source = source.pins(spkiPins());
    }
    ClientKey key = clientKey();
    return key == null ? source : source.clientKey(key);
  }

  /** The same trust, pins and client key for a client on the JDK's HttpClient. */
  SSLContext jdkSslContext() {
    ClientKey key = clientKey();
    return JdkTls.sslContext(anchors(), spkiPins(), key == null ? null : key.keyManagers());
  }

  private TrustAnchors anchors() {
    if (rootCerts.isEmpty()) {
      return TrustAnchors.jdkDefault();
    }
    TrustAnchors anchors = TrustAnchors.fromPemFile(rootCerts.get(0));
    for (Path file : rootCerts.subList(1, rootCerts.size())) {
      anchors = anchors.and(TrustAnchors.fromPemFile(file));
    }
    return anchors;
  }

  private List<SpkiPin> spkiPins() {
    List<SpkiPin> parsed = new ArrayList<>();
    for (String pin : pins) {
      parsed.add(SpkiPin.parse(pin));
    }
    return parsed;
  }

  /** The client certificate and key, checked to belong together; null when neither is given. */
  private @Nullable ClientKey clientKey() {
    Path cert = clientCert;
    Path key = clientKey;
    if (cert == null && key == null) {
      return null;
    }
    if (cert == null || key == null) {
      throw OtaException.of(Reason.USAGE, "Give --client-cert and --client-key together: the certificate and its "
          + "private key.");
    }
    return ClientKey.fromPemFiles(cert, key);
  }
}
