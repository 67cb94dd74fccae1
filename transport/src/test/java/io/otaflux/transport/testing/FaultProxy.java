package io.otaflux.transport.testing;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;

import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on an ephemeral port of 127.0.0.1 in front of another local server (usually an
 * HTTPS {@link TestServer}: the proxy sees only TLS records), injecting one {@link Fault} into
 * what the server sends back: cut the connection after byte N, stall after byte N, drip slowly,
 * reset (RST) after byte N, or flip one bit of byte N. The fault hits the first
 * {@link #faultyConnections(int) n} connections only (all by default), so a retry can succeed.
 * Client-to-server bytes pass untouched.
 */
public final class FaultProxy implements AutoCloseable {

  /** What the proxy does to the server's bytes on a faulty connection. */
  public sealed interface Fault {
    /** Passes everything. */
    record None() implements Fault {
    }

    /**
     * Forwards {@code after} bytes, then closes both sides in an orderly way (FIN).
     *
     * @param after bytes forwarded first
     */
    record Cut(long after) implements Fault {
    }

    /**
     * Forwards {@code after} bytes, then resets the client's connection (RST).
     *
     * @param after bytes forwarded first
     */
    record Reset(long after) implements Fault {
    }

    /**
     * Forwards {@code after} bytes, then forwards nothing more and keeps both connections open.
     *
     * @param after bytes forwarded first
     */
    record Stall(long after) implements Fault {
    }

    /**
     * Forwards {@code bytes} bytes every {@code every} (what is still queued when either side
     * closes is dropped with the connection).
     *
     * @param bytes bytes per step
     * @param every time between steps
     */
    record Drip(int bytes, Duration every) implements Fault {
    }

    /**
     * Flips the lowest bit of byte {@code at}.
     *
     * @param at the offset of the byte in the server's stream
     */
    record Flip(long at) implements Fault {
    }
  }

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final int targetPort;
  private final Fault fault;
  private final int faulty;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong toClient = new java.util.concurrent.atomic.AtomicLong();
  private final Channel server;

  private FaultProxy(int targetPort, Fault fault, int faulty) {
    this.targetPort = targetPort;
    this.fault = fault;
    this.faulty = faulty;
    ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            int n = connections.getAndIncrement();
            open.incrementAndGet();
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            ch.pipeline().addLast(new Frontend(n < FaultProxy.this.faulty ? FaultProxy.this.fault : new Fault.None()));
          }
        });
    server = bootstrap.bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  /**
   * A proxy to {@code 127.0.0.1:targetPort} injecting {@code fault} on every connection.
   *
   * @param targetPort the server's port
   * @param fault the fault
   * @return the started proxy
   */
  public static FaultProxy start(int targetPort, Fault fault) {
    return new FaultProxy(targetPort, fault, Integer.MAX_VALUE);
  }

  /**
   * This proxy's fault on the first {@code n} connections only: a new proxy (close this one).
   *
   * @param n how many connections get the fault
   * @return a new started proxy
   */
  public FaultProxy faultyConnections(int n) {
    close();
    return new FaultProxy(targetPort, fault, n);
  }

  /**
   * A proxy to {@code 127.0.0.1:targetPort} injecting {@code fault} on the first {@code n} connections.
   *
   * @param targetPort the server's port
   * @param fault the fault
   * @param n how many connections get the fault
   * @return the started proxy
   */
  public static FaultProxy start(int targetPort, Fault fault, int n) {
    return new FaultProxy(targetPort, fault, n);
  }

  /** @return the proxy's port */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /**
   * The URL of {@code path} through this proxy, with host {@code localhost}.
   *
   * @param path the path
   * @return the URL
   */
  public String url(String path) {
    return "https://localhost:" + port() + path;
  }

  /** @return how many client connections were accepted */
  public int connections() {
    return connections.get();
  }

  /** @return how many bytes of the server's were forwarded to clients, over all connections (TLS included) */
  public long bytesToClients() {
    return toClient.get();
  }

  /** @return how many client connections are open */
  public int openConnections() {
    return open.get();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The client's side: connects to the server, forwards the client's bytes. */
  private final class Frontend extends ChannelInboundHandlerAdapter {
    private final Fault fault;
    private @Nullable Channel backend;

    Frontend(Fault fault) {
      this.fault = fault;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Channel front = ctx.channel();
      ChannelFuture connect = new Bootstrap().group(front.eventLoop()).channel(NioSocketChannel.class)
          .option(ChannelOption.AUTO_READ, false)
          .handler(new Backend(front, fault, toClient))
          .connect(new InetSocketAddress("127.0.0.1", targetPort));
      backend = connect.channel();
      connect.addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          front.read();
          backend.read();
        } else {
          front.close();
        }
      });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel backend = this.backend;
      if (backend != null && backend.isActive()) {
        backend.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            ctx.channel().read();
          } else {
            f.channel().close();
          }
        });
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (backend != null) {
        closeOnFlush(backend);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** The server's side: forwards the server's bytes to the client through the fault. */
  private static final class Backend extends ChannelInboundHandlerAdapter {
    private final Channel front;
    private final Fault fault;
    private final java.util.concurrent.atomic.AtomicLong toClient;
    private long forwarded;
    private boolean stopped;
    private @Nullable ByteBuf dripping;

    Backend(Channel front, Fault fault, java.util.concurrent.atomic.AtomicLong toClient) {
      this.front = front;
      this.fault = fault;
      this.toClient = toClient;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      if (stopped || !front.isActive()) {
        in.release();
        return;
      }
      long start = forwarded;
      int length = in.readableBytes();
      forwarded += length;
      if (fault instanceof Fault.Cut cut && start + length >= cut.after()) {
        stopped = true;
        writeHead(in, (int) (cut.after() - start)).addListener(f -> {
          front.close();
          ctx.close();
        });
        return;
      }
      if (fault instanceof Fault.Reset reset && start + length >= reset.after()) {
        stopped = true;
        writeHead(in, (int) (reset.after() - start)).addListener(f -> {
          front.config().setOption(ChannelOption.SO_LINGER, 0);
          front.close();
          ctx.close();
        });
        return;
      }
      if (fault instanceof Fault.Stall stall && start + length >= stall.after()) {
        stopped = true;
        writeHead(in, (int) (stall.after() - start));
        return; // no more reads from the server: both connections stay open, silent
      }
      if (fault instanceof Fault.Flip flip && flip.at() >= start && flip.at() < start + length) {
        int index = in.readerIndex() + (int) (flip.at() - start);
        in.setByte(index, in.getByte(index) ^ 0x01);
      }
      toClient.addAndGet(length);
      if (fault instanceof Fault.Drip drip) {
        dripping = in;
        drip(ctx, drip);
        return;
      }
      front.writeAndFlush(in).addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          ctx.channel().read();
        } else {
          ctx.close();
        }
      });
    }

    private ChannelFuture writeHead(ByteBuf in, int n) {
      toClient.addAndGet(Math.max(0, n));
      ByteBuf head = in.readRetainedSlice(Math.max(0, n));
      in.release();
      return front.writeAndFlush(head);
    }

    private void drip(ChannelHandlerContext ctx, Fault.Drip drip) {
      ByteBuf in = dripping;
      if (in == null) {
        return; // released when the connection closed
      }
      if (!in.isReadable() || !front.isActive()) {
        dripping = null;
        in.release();
        if (front.isActive()) {
          ctx.channel().read();
        }
        return;
      }
      ByteBuf step = in.readRetainedSlice(Math.min(drip.bytes(), in.readableBytes()));
      front.writeAndFlush(step).addListener((ChannelFutureListener) f -> {
        if (!f.isSuccess()) {
          ctx.close();
          return;
        }
        ctx.executor().schedule(() -> drip(ctx, drip), drip.every().toNanos(), TimeUnit.NANOSECONDS);
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      releaseDripping();
      if (!stopped) {
        closeOnFlush(front);
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      releaseDripping();
    }

    private void releaseDripping() {
      ByteBuf in = dripping;
      dripping = null;
      if (in != null) {
        in.release();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static void closeOnFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
