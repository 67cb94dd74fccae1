package io.otaflux.transport;

import java.security.cert.CertificateException;

import org.jspecify.annotations.Nullable;

/** A refused chain, with the sentence a person reads; travels inside the handshake exception. */
final class TrustFailure extends CertificateException {

  private static final long serialVersionUID = 1L;

  TrustFailure(String sentence, @Nullable Throwable cause) {
    super(sentence, cause);
  }
}
