package io.otaflux.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.SpkiPin;
import io.otaflux.transport.TrustAnchors;

import picocli.CommandLine.Option;

/** The options every download shares: trust anchors, pins, the idle timeout. */
final class HttpsOptions {

  @Option(names = "--root-cert", paramLabel = "FILE",
      description = "PEM file with trust anchors (root or intermediate). Repeatable. Default: the JDK's trust store.")
  List<Path> rootCerts = new ArrayList<>();

  @Option(names = "--pin", paramLabel = "sha256/BASE64",
      description = "SPKI SHA-256 that must appear in the validated chain. Repeatable: any one matching is enough.")
  List<String> pins = new ArrayList<>();

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Units.DurationConverter.class,
      description = "Idle read timeout, e.g. 30s or 500ms (default: ${DEFAULT-VALUE}); the connect timeout is no longer.")
  Duration timeout;

  HttpsFirmwareSource source() {
    HttpsFirmwareSource source = HttpsFirmwareSource.create()
        .idleTimeout(timeout)
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(10)) < 0 ? timeout : Duration.ofSeconds(10));
    if (!rootCerts.isEmpty()) {
      TrustAnchors anchors = TrustAnchors.fromPemFile(rootCerts.get(0));
      for (Path file : rootCerts.subList(1, rootCerts.size())) {
        anchors = anchors.and(TrustAnchors.fromPemFile(file));
      }
      source = source.trustAnchors(anchors);
    }
    if (!pins.isEmpty()) {
      List<SpkiPin> parsed = new ArrayList<>();
      for (String pin : pins) {
        parsed.add(SpkiPin.parse(pin));
      }
      source = source.pins(parsed);
    }
    return source;
  }
}
