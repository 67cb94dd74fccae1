package io.otaflux.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.manifest.TrustedKeys;

import picocli.CommandLine.Option;

/** {@code --trusted-key} and {@code --no-signature-check}: who may sign manifests, or knowingly nobody. */
final class ManifestOptions {

  /** What a run without any trusted key is told: the manifest is refused (exit 2). */
  static final String KEY_REQUIRED = "A manifest is used only when its signature is checked, and no --trusted-key was "
      + "given, so nothing was downloaded. Give the publisher's public key with --trusted-key FILE, or "
      + "--no-signature-check to accept unsigned manifests knowingly.";

  /** The warning every run with {@code --no-signature-check} prints. */
  static final String UNCHECKED = "manifest signatures are not checked (--no-signature-check): whoever can change "
      + "the manifest on its way here chooses what this device installs. Give --trusted-key FILE instead.";

  @Option(names = "--trusted-key", paramLabel = "FILE",
      description = "Public key (PEM) allowed to sign manifests. Repeatable (key rotation). Nothing is activated "
          + "without a valid signature by one of them; without any, a manifest is refused.")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--no-signature-check",
      description = "Accept a manifest without checking its signature (for lab use); warns on every run.")
  boolean noSignatureCheck;

  /**
   * The keys for {@code update --manifest} and {@code check}.
   *
   * @throws OtaException {@link Detail#SIGNATURE_CHECK_REQUIRED} without a key and without
   *     {@code --no-signature-check}
   */
  TrustedKeys keys() {
    TrustedKeys keys = keysOrNone();
    if (keys.isChecking() && keys.keys().isEmpty()) {
      throw OtaException.of(Detail.SIGNATURE_CHECK_REQUIRED, KEY_REQUIRED);
    }
    return keys;
  }

  /**
   * The keys for the agent: without any, the set is empty and every manifest is refused when a
   * server names one (images without a manifest still work).
   */
  TrustedKeys keysOrNone() {
    if (noSignatureCheck && !trustedKeys.isEmpty()) {
      throw OtaException.of(Detail.INVALID_REQUEST, "Give --trusted-key or --no-signature-check, not both: with a "
          + "trusted key every manifest's signature is checked.");
    }
    if (noSignatureCheck) {
      return TrustedKeys.skipSignatureCheck();
    }
    return trustedKeys.isEmpty() ? TrustedKeys.of() : TrustedKeys.read(trustedKeys);
  }

  /** Prints {@link #UNCHECKED} on stderr, and as a JSON {@code warning} event on stdout with {@code --json}. */
  void warnIfUnchecked(PrintStream out, PrintStream err, boolean json) {
    if (!noSignatureCheck) {
      return;
    }
    err.println("warning: " + UNCHECKED);
    err.flush();
    if (json) {
      Json.print(out, warning(UNCHECKED));
    }
  }

  static Map<String, Object> warning(String message) {
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("event", "warning");
    event.put("message", message);
    return event;
  }
}
