package io.otaflux.transport.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import org.reactivestreams.Publisher;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

/**
 * An HTTPS server on an ephemeral port of 127.0.0.1 that answers with raw bytes a test writes by
 * hand: the HTTP misbehaviour a well-behaved server library will not produce (a Content-Length
 * that lies, an endless body, huge or slow headers, no HTTP at all). Reads the request head,
 * then sends what the {@link Script} returns and closes the connection when it completes.
 */
public final class RawHttpsServer implements AutoCloseable {

  /** What to send for the n-th request (0-based), given its head. */
  @FunctionalInterface
  public interface Script {
    /**
     * The answer's bytes.
     *
     * @param head the request line and headers as text
     * @param n how many requests were answered before
     * @return the bytes to send; the connection closes when this completes
     */
    Publisher<byte[]> answer(String head, int n);
  }

  private final AtomicInteger count = new AtomicInteger();
  private final List<String> heads = new ArrayList<>();
  private final DisposableServer server;

  private RawHttpsServer(TestPki.Identity identity, Script script) {
    server = TcpServer.create().host("127.0.0.1").port(0)
        .secure(spec -> spec.sslContext(identity.serverContext()))
        .handle((in, out) -> {
          // read the whole inbound side without ever cancelling it (a cancel may close the connection)
          Sinks.One<String> head = Sinks.one();
          StringBuilder text = new StringBuilder();
          in.receive().asString(StandardCharsets.ISO_8859_1).subscribe(s -> {
            text.append(s);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
              head.tryEmitValue(text.substring(0, end));
            }
          }, e -> { }, () -> { });
          return head.asMono().flatMap(h -> {
            synchronized (heads) {
              heads.add(h);
            }
            Flux<ByteBuf> bytes = Flux.from(script.answer(h, count.getAndIncrement())).map(Unpooled::wrappedBuffer);
            return out.send(bytes, b -> true).then();
          });
        })
        .bindNow(Duration.ofSeconds(5));
  }

  /**
   * Starts a server presenting {@code identity} and answering with {@code script}.
   *
   * @param identity key and chain
   * @param script the answers
   * @return the started server
   */
  public static RawHttpsServer start(TestPki.Identity identity, Script script) {
    return new RawHttpsServer(identity, script);
  }

  /**
   * An answer: the text (ISO-8859-1) followed by {@code body}.
   *
   * @param head status line and headers, each ending with CRLF, and the blank line
   * @param body the body bytes
   * @return the bytes, in pieces of at most 16 KiB
   */
  public static Flux<byte[]> answer(String head, byte[] body) {
    return Flux.concat(Mono.just(head.getBytes(StandardCharsets.ISO_8859_1)), pieces(body, 0, body.length));
  }

  /**
   * Bytes {@code from} to {@code to} of {@code body} in pieces of at most 16 KiB.
   *
   * @param body the bytes
   * @param from first offset
   * @param to end offset (exclusive)
   * @return the pieces
   */
  public static Flux<byte[]> pieces(byte[] body, int from, int to) {
    return Flux.generate(() -> from, (offset, sink) -> {
      if (offset >= to) {
        sink.complete();
        return offset;
      }
      int n = Math.min(16 * 1024, to - offset);
      sink.next(java.util.Arrays.copyOfRange(body, offset, offset + n));
      return offset + n;
    });
  }

  /** @return the port */
  public int port() {
    return server.port();
  }

  /**
   * The URL of {@code path}, with host {@code localhost}.
   *
   * @param path the path
   * @return the URL
   */
  public String url(String path) {
    return "https://localhost:" + port() + path;
  }

  /** @return the request heads received so far */
  public List<String> heads() {
    synchronized (heads) {
      return List.copyOf(heads);
    }
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }
}
