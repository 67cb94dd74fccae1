package io.otaflux.transport;

import java.security.cert.CertificateException;

import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;

/**
 * A refused chain, with what exactly was wrong and the sentence a person reads; travels inside the
 * handshake exception, and becomes an {@link io.otaflux.OtaException} with the same detail.
 */
final class TrustFailure extends CertificateException {

  private static final long serialVersionUID = 1L;

  private final Detail detail;

  TrustFailure(Detail detail, String sentence, @Nullable Throwable cause) {
    super(sentence, cause);
    if (detail.reason() != io.otaflux.OtaException.Reason.TRUST) {
      throw new IllegalArgumentException("not a trust detail: " + detail);
    }
    this.detail = detail;
  }

  /** What exactly was refused: {@link Detail#UNTRUSTED_CHAIN}, {@link Detail#PIN_MISMATCH}, ... */
  Detail detail() {
    return detail;
  }
}
