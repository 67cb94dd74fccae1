package io.otaflux.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/** A trust manager of the client side: it judges servers, and refuses every client chain. */
abstract class ServerTrustManager extends X509ExtendedTrustManager {

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw serversOnly();
  }

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw serversOnly();
  }

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw serversOnly();
  }

  private static CertificateException serversOnly() {
    return new CertificateException("this trust manager checks servers only");
  }
}
