package io.otaflux.transport;

import java.net.Socket;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLEngine;

/**
 * Accepts any server chain, unchecked: only for reading what a server presents
 * ({@link CertificateFetcher}), never for a download.
 */
final class TrustOnFirstUse extends ServerTrustManager {

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // trust on first use: the chain is read, not judged
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // as above
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    // as above
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
