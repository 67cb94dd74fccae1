package io.otaflux.transport;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;

import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;

/**
 * Presents the {@link ClientKey} (if any) to every server that asks for a client certificate, and
 * remembers, per TLS engine, that the server asked and whether a certificate went back. A server
 * that requires one and does not like what it got ends the handshake with an alert the JDK and
 * Netty report as a bare {@code SSLException} (its alert named only in the message text); the
 * {@link #on watch} on each connection adds a {@link TrustFailure} with
 * {@link Detail#CLIENT_CERT_REQUIRED} or {@link Detail#CLIENT_CERT_REFUSED} to that exception, so
 * the failure is told apart by what this device saw, never by wording.
 */
final class ClientKeyManager extends X509ExtendedKeyManager {

  static final String NAME = "otaflux.clientCertificateWatch";
  private static final String ALIAS = "client";

  private final @Nullable ClientKey key;
  /** Engines whose server asked for a client certificate: whether one was presented. */
  private final Map<SSLEngine, Boolean> asked = Collections.synchronizedMap(new WeakHashMap<>());

  ClientKeyManager(@Nullable ClientKey key) {
    this.key = key;
  }

  /** The client, watching each TLS connection it opens for a refused or missing client certificate. */
  HttpClient on(HttpClient client) {
    return client.doOnChannelInit((observer, channel, address) -> {
      ChannelPipeline pipeline = channel.pipeline();
      ChannelHandler ssl = pipeline.get(NettyPipeline.SslHandler);
      if (ssl instanceof SslHandler && pipeline.get(NAME) == null) {
        pipeline.addAfter(NettyPipeline.SslHandler, NAME, new Watch(((SslHandler) ssl).engine()));
      }
    });
  }

  /** Whether the server of {@code engine} asked for a client certificate (null: it did not), and one was sent. */
  @Nullable Boolean outcome(SSLEngine engine) {
    return asked.get(engine);
  }

  @Override
  public @Nullable String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    asked.put(engine, key != null);
    return key != null ? ALIAS : null;
  }

  @Override
  public @Nullable String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return key != null ? ALIAS : null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return key != null ? new String[] {ALIAS} : new String[0];
  }

  @Override
  public X509Certificate @Nullable [] getCertificateChain(String alias) {
    return key != null && ALIAS.equals(alias) ? key.chain() : null;
  }

  @Override
  public @Nullable PrivateKey getPrivateKey(String alias) {
    return key != null && ALIAS.equals(alias) ? key.key() : null;
  }

  @Override
  public String @Nullable [] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public @Nullable String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return null;
  }

  /**
   * Sits after the TLS handler: a TLS failure (an alert, not a closed connection) on a connection
   * whose server asked for a client certificate gets the {@link TrustFailure} that says so.
   */
  private final class Watch extends ChannelInboundHandlerAdapter {
    private final SSLEngine engine;

    Watch(SSLEngine engine) {
      this.engine = engine;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof SslHandshakeCompletionEvent && !((SslHandshakeCompletionEvent) event).isSuccess()) {
        explain(((SslHandshakeCompletionEvent) event).cause());
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
      explain(cause);
      super.exceptionCaught(ctx, cause);
    }

    private void explain(@Nullable Throwable error) {
      if (error == null) {
        return;
      }
      SSLException tls = Failures.find(error, SSLException.class);
      Boolean presented = outcome(engine);
      if (tls == null || presented == null || Failures.find(error, TrustFailure.class) != null
          || Failures.find(tls, java.io.EOFException.class) != null
          || Failures.find(tls, java.nio.channels.ClosedChannelException.class) != null
          || Failures.find(tls, java.net.SocketException.class) != null) {
        // not an alert after the server asked: a closed connection stays a network failure
        return;
      }
      String where = engine.getPeerHost() + ":" + engine.getPeerPort();
      ClientKey k = key;
      tls.addSuppressed(presented && k != null
          ? new TrustFailure(Detail.CLIENT_CERT_REFUSED, where + " refused this device's client certificate ("
              + k.describe() + "): the server does not trust its issuer, or it is out of its dates. Give a client"
              + " certificate issued by a CA the server accepts (--client-cert, --client-key).", null)
          : new TrustFailure(Detail.CLIENT_CERT_REQUIRED, where + " requires a client certificate (mutual TLS) and"
              + " this device has none to give; give its certificate and key (--client-cert, --client-key).", null));
    }
  }
}
