package io.otaflux.delta;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;

import reactor.core.CoreSubscriber;

/**
 * A {@code Flux<ByteBuffer>} read as a blocking {@link InputStream}, for the decoders that pull
 * (xz, zstd, gzip streams). At most {@code prefetch} buffers wait in the queue: the source is
 * asked for more only as the reader consumes, so backpressure reaches the network.
 */
final class ByteStreamBridge extends ChunkedInput implements CoreSubscriber<ByteBuffer> {

  private static final Object END = new Object();
  private static final Object CANCELLED = new Object();

  private record Failure(Throwable error) {
  }

  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final int prefetch;
  private final int replenish;
  private volatile @Nullable Subscription subscription;
  private volatile boolean closed;
  private @Nullable ByteBuffer current;
  private boolean ended;
  private int consumed;
  private long bytesRead;

  ByteStreamBridge(int prefetch) {
    this.prefetch = prefetch;
    this.replenish = Math.max(1, prefetch / 2);
  }

  @Override
  public void onSubscribe(Subscription s) {
    subscription = s;
    if (closed) {
      s.cancel();
    } else {
      s.request(prefetch);
    }
  }

  @Override
  public void onNext(ByteBuffer buffer) {
    queue.offer(buffer);
  }

  @Override
  public void onError(Throwable t) {
    queue.offer(new Failure(t));
  }

  @Override
  public void onComplete() {
    queue.offer(END);
  }

  /** Bytes handed to the reader so far. */
  long bytesRead() {
    return bytesRead;
  }

  @Override
  int readSome(byte[] b, int off, int len) throws IOException {
    ByteBuffer buffer = next();
    if (buffer == null) {
      return -1;
    }
    int n = Math.min(len, buffer.remaining());
    buffer.get(b, off, n);
    bytesRead += n;
    return n;
  }

  private @Nullable ByteBuffer next() throws IOException {
    while (current == null || !current.hasRemaining()) {
      if (ended) {
        return null;
      }
      Object item;
      try {
        item = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the download");
      }
      if (item == END) {
        ended = true;
        return null;
      }
      if (item == CANCELLED) {
        ended = true;
        throw new InterruptedIOException("the download was cancelled");
      }
      if (item instanceof Failure) {
        ended = true;
        throw new UpstreamFailure(((Failure) item).error());
      }
      current = (ByteBuffer) item;
      if (++consumed == replenish) {
        consumed = 0;
        Subscription s = subscription;
        if (s != null) {
          s.request(replenish);
        }
      }
    }
    return current;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
      queue.clear();
      queue.offer(CANCELLED);
    }
  }

  /** The source failed: carries its error through the decoder unchanged. */
  static final class UpstreamFailure extends IOException {
    private static final long serialVersionUID = 1L;

    UpstreamFailure(Throwable cause) {
      super(cause.getMessage(), cause);
    }
  }
}
