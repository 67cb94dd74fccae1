package io.otaflux.transport;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import io.netty.buffer.ByteBuf;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.spi.ImageDownload;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;

/**
 * An answer carrying the image: its metadata, and the body as copies made at the boundary or, for
 * {@link #lentBody()}, as views of retained receive buffers given back after use (no {@code ByteBuf}
 * leaves the module). The connection is closed when the body is cancelled, when
 * the download is discarded, and when the body goes silent while bytes are wanted.
 */
final class HttpsDownload implements ImageDownload {

  private final Connection connection;
  private final URI effectiveUri;
  private final long offset;
  private final long totalSize;
  private final @Nullable String validator;
  private final List<String> warnings;
  private final HttpsFirmwareSource.Transport transport;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final Sinks.Empty<Void> released = Sinks.empty();
  /** The buffers {@link #lentBody()} handed out and not yet given back, oldest first. */
  private final Queue<Lent> lent = new ConcurrentLinkedQueue<>();

  HttpsDownload(Connection connection, URI effectiveUri, long offset, long totalSize, @Nullable String validator,
      List<String> warnings, HttpsFirmwareSource.Transport transport) {
    this.connection = connection;
    this.effectiveUri = effectiveUri;
    this.offset = offset;
    this.totalSize = totalSize;
    this.validator = validator;
    this.warnings = List.copyOf(warnings);
    this.transport = transport;
  }

  /** This download, then completion once the body has ended or the download was discarded. */
  Flux<Object> held() {
    return Flux.concat(Mono.just(this), released.asMono().then(Mono.empty()));
  }

  @Override
  public URI effectiveUri() {
    return effectiveUri;
  }

  @Override
  public long offset() {
    return offset;
  }

  @Override
  public OptionalLong totalSize() {
    return totalSize >= 0 ? OptionalLong.of(totalSize) : OptionalLong.empty();
  }

  @Override
  public @Nullable String validator() {
    return validator;
  }

  @Override
  public List<String> warnings() {
    return warnings;
  }

  @Override
  public Flux<ByteBuffer> body() {
    return body(HttpsDownload::copy);
  }

  /**
   * The body as views of Netty's own receive buffers, each kept (retained) until {@link #giveBack}:
   * the bytes go from the decrypting engine to the slot writer without a copy or a new array.
   */
  @Override
  public Flux<ByteBuffer> lentBody() {
    return body(this::lend);
  }

  @Override
  public void giveBack(ByteBuffer chunk) {
    for (Lent l : lent) {
      if (l.view == chunk) {
        if (lent.remove(l)) { // only one caller wins the removal: released once
          l.buffer.release();
        }
        return;
      }
    }
  }

  private ByteBuffer lend(ByteBuf buffer) {
    ByteBuf kept = buffer.retain(); // Reactor Netty releases its own reference once the chunk is emitted
    ByteBuffer view = kept.nioBufferCount() == 1 ? kept.nioBuffer() : copy(kept);
    lent.add(new Lent(view, kept));
    return view;
  }

  private Flux<ByteBuffer> body(Function<ByteBuf, ByteBuffer> toChunk) {
    return Flux.defer(() -> {
      if (!claimed.compareAndSet(false, true)) {
        return Flux.error(new IllegalStateException("the body of a download can be read once, and not after discard()"));
      }
      IdleWatch watch = new IdleWatch(transport.idleTimeout(), transport.timer(), connection::dispose);
      return connection.inbound().receive()
          .filter(ByteBuf::isReadable)
          .map(toChunk)
          .doOnNext(chunk -> watch.received())
          .doOnRequest(watch::requested)
          .onErrorMap(e -> watch.fired() ? idle() : transport.failure(e, effectiveUri))
          .concatWith(Mono.defer(() -> watch.fired() ? Mono.error(idle()) : Mono.empty()))
          .doOnCancel(connection::dispose)
          .doFinally(signal -> {
            watch.stop();
            released.tryEmitEmpty();
          });
    });
  }

  @Override
  public void discard() {
    if (claimed.compareAndSet(false, true)) {
      connection.dispose();
      released.tryEmitEmpty();
    }
  }

  private OtaException idle() {
    return OtaException.transientFailure(Detail.TIMEOUT, "No data came from " + Failures.origin(effectiveUri) + " for "
        + Failures.human(transport.idleTimeout()) + " while the image was being read; the connection was closed.", null);
  }

  /** A lent view and the buffer it keeps; compared by identity (a record would compare the bytes). */
  private static final class Lent {
    final ByteBuffer view;
    final ByteBuf buffer;

    Lent(ByteBuffer view, ByteBuf buffer) {
      this.view = view;
      this.buffer = buffer;
    }
  }

  private static ByteBuffer copy(ByteBuf buffer) {
    ByteBuffer copy = ByteBuffer.allocate(buffer.readableBytes());
    buffer.getBytes(buffer.readerIndex(), copy);
    return copy.flip();
  }
}
