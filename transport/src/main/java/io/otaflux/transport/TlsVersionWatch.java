package io.otaflux.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;

/**
 * Reads the first TLS record a server sends, before the TLS engine consumes it, for the two ways a
 * server says it speaks no version this client accepts: a {@code protocol_version} alert
 * (RFC 8446 6.2, description 70) instead of a ServerHello, or a ServerHello choosing a version
 * below TLS 1.2. The JDK reports both as a plain {@code SSLHandshakeException} whose only clue is
 * its message text; the record itself is the reliable source. One watch per connection attempt.
 */
final class TlsVersionWatch {

  static final String NAME = "otaflux.tlsVersionWatch";
  private static final int ALERT = 21;
  private static final int HANDSHAKE = 22;
  private static final int SERVER_HELLO = 2;
  private static final int PROTOCOL_VERSION = 70;
  private static final int TLS_1_2 = 0x0303;

  private volatile boolean serverSpoke;
  private volatile int alert = -1;
  private volatile int serverVersion = -1;

  /** The client, watching every connection it opens with this watch. */
  HttpClient on(HttpClient client) {
    return client.doOnChannelInit((observer, channel, address) -> {
      ChannelPipeline pipeline = channel.pipeline();
      if (pipeline.get(NettyPipeline.SslHandler) != null && pipeline.get(NAME) == null) {
        pipeline.addBefore(NettyPipeline.SslHandler, NAME, new Reader());
      }
    });
  }

  /** Whether the server refused every TLS version offered (1.2 and 1.3), by alert or by its ServerHello. */
  boolean refusedVersion() {
    int v = serverVersion;
    return alert == PROTOCOL_VERSION || (v > 0 && v < TLS_1_2);
  }

  /** Whether any byte came from the server on the connection. */
  boolean serverSpoke() {
    return serverSpoke;
  }

  /** What the server said, for the sentence: "TLS 1.1", or "a protocol_version alert". */
  String what() {
    int v = serverVersion;
    if (v > 0 && v < TLS_1_2) {
      return v == 0x0300 ? "SSL 3.0" : "TLS 1." + (v - 0x0301);
    }
    return "a protocol_version alert";
  }

  /** Looks at the first record's first bytes (a copy; the record goes on unchanged), then leaves. */
  private final class Reader extends ChannelInboundHandlerAdapter {
    private final byte[] head = new byte[11];
    private int seen;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf) {
        ByteBuf in = (ByteBuf) msg;
        int n = Math.min(head.length - seen, in.readableBytes());
        if (n > 0) {
          serverSpoke = true;
          in.getBytes(in.readerIndex(), head, seen, n);
          seen += n;
        }
        if (seen >= 7 && (head[0] & 0xff) == ALERT) {
          alert = head[6] & 0xff;
          done(ctx);
        } else if (seen >= head.length || (seen >= 1 && (head[0] & 0xff) != HANDSHAKE)) {
          if ((head[0] & 0xff) == HANDSHAKE && (head[5] & 0xff) == SERVER_HELLO) {
            serverVersion = ((head[9] & 0xff) << 8) | (head[10] & 0xff);
          }
          done(ctx);
        }
      }
      ctx.fireChannelRead(msg);
    }

    private void done(ChannelHandlerContext ctx) {
      if (ctx.pipeline().context(this) != null) {
        ctx.pipeline().remove(this);
      }
    }
  }
}
