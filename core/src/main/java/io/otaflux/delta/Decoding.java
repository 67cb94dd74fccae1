package io.otaflux.delta;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.internal.Sizes;

import org.jspecify.annotations.Nullable;
import org.tukaani.xz.MemoryLimitException;
import org.tukaani.xz.XZInputStream;

import reactor.core.publisher.Flux;
import reactor.core.publisher.SynchronousSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Decompression as a stage of the update's {@code Flux}: compressed buffers in, image buffers out,
 * with backpressure both ways (the decoder reads only as the slot writer asks, and the source is
 * asked only as the decoder reads) and flat memory (a few buffers plus the decoder's window).
 *
 * <p>The decoders pull, so they run on a worker of their own ({@code otaflux-decode}), never on a
 * network event loop; the stage's output arrives there.
 */
final class Decoding {

  static final int OUTPUT_BUFFER = 64 * 1024;
  private static final int PREFETCH = 8;
  /** xz's dictionary lives on the heap: refuse streams needing more than this (xz -6 needs 9 MiB). */
  static final int XZ_MEMORY_LIMIT_KIB = 33 * 1024;

  private Decoding() {
  }

  /**
   * The decoded bytes of {@code compressed}.
   *
   * @param compressed the compressed bytes, in order
   * @param compression how they are compressed
   * @param limit the most bytes the image may have: the stage fails the moment the output passes it
   * @param limitDetail the detail of that failure ({@code SIZE_MISMATCH} for a manifest's size,
   *     {@code SLOT_TOO_SMALL} for a slot's capacity)
   * @return the image bytes
   */
  static Flux<ByteBuffer> decode(Flux<ByteBuffer> compressed, Compression compression, long limit,
      Detail limitDetail) {
    if (compression == Compression.NONE) {
      return compressed;
    }
    return Flux.using(() -> new ByteStreamBridge(PREFETCH),
        bridge -> {
          compressed.subscribe(bridge);
          return Flux.<ByteBuffer, State>generate(() -> new State(bridge),
              (state, sink) -> state.next(sink, compression, limit, limitDetail),
              State::close);
        },
        ByteStreamBridge::close)
        .subscribeOn(DecodeScheduler.INSTANCE, true);
  }

  /** The decoder of one stream, opened on the worker (xz reads its header in the constructor). */
  private static final class State {
    private final ByteStreamBridge bridge;
    private @Nullable InputStream decoder;
    private long produced;

    State(ByteStreamBridge bridge) {
      this.bridge = bridge;
    }

    State next(SynchronousSink<ByteBuffer> sink, Compression compression, long limit, Detail limitDetail) {
      try {
        InputStream in = decoder;
        if (in == null) {
          in = open(bridge, compression);
          decoder = in;
        }
        byte[] out = new byte[OUTPUT_BUFFER];
        int n = readSome(in, out);
        if (n < 0) {
          sink.complete();
          return this;
        }
        if (produced + n > limit) {
          sink.error(OtaException.of(limitDetail, "The compressed image expands past " + Sizes.human(limit)
              + (limitDetail == Detail.SIZE_MISMATCH ? ", the size its manifest states" : ", the slot's capacity")
              + ": it is not the image announced (or a decompression bomb). Nothing was activated; ask its publisher."));
          return this;
        }
        produced += n;
        sink.next(ByteBuffer.wrap(out, 0, n));
      } catch (ByteStreamBridge.UpstreamFailure e) {
        Throwable cause = e.getCause();
        sink.error(cause != null ? cause : e);
      } catch (InterruptedIOException e) {
        sink.error(OtaException.of(Detail.ABORTED, "The download was cancelled.", e));
      } catch (MemoryLimitException e) {
        sink.error(OtaException.of(Detail.CORRUPT_IMAGE, "The xz image needs " + e.getMemoryNeeded() / 1024
            + " MiB of memory to decode, more than the " + XZ_MEMORY_LIMIT_KIB / 1024 + " MiB allowed; ask its"
            + " publisher to compress it with `xz -6` or less (or `ota manifest create --compress xz`).", e));
      } catch (IOException | RuntimeException e) {
        sink.error(corrupt(compression, e));
      } catch (LinkageError e) {
        sink.error(missingDecoder(compression, e));
      }
      return this;
    }

    void close() {
      InputStream in = decoder;
      if (in != null) {
        try {
          in.close();
        } catch (IOException | RuntimeException e) {
          // nothing to do: the stream ends anyway
        }
      }
      bridge.close();
    }
  }

  /** Fills as much of {@code out} as one or more reads give without waiting for a short read to grow. */
  private static int readSome(InputStream in, byte[] out) throws IOException {
    int total = 0;
    while (total < out.length) {
      int n = in.read(out, total, out.length - total);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      total += n;
    }
    return total;
  }

  static InputStream open(InputStream in, Compression compression) throws IOException {
    switch (compression) {
      case GZIP:
        return new GzipMembers(in);
      case XZ:
        return new XZInputStream(in, XZ_MEMORY_LIMIT_KIB);
      case ZSTD:
        return ZstdCodec.decoder(in);
      default:
        return in;
    }
  }

  static OtaException corrupt(Compression compression, Throwable e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return OtaException.of(Detail.CORRUPT_IMAGE, "The " + compression.label() + "-compressed image is damaged or"
        + " truncated (" + detail + "); nothing was activated. Run the update again; if it fails the same way, ask"
        + " its publisher to check the file.", e);
  }

  static OtaException missingDecoder(Compression compression, Throwable e) {
    return OtaException.of(Detail.INVALID_REQUEST, "This image is " + compression.label() + "-compressed, but the "
        + compression.label() + " decoder (com.github.luben:zstd-jni) is not on the class path or has no native"
        + " library for this platform; add it, or publish the image with --compress xz or gzip.", e);
  }

  /** Lazily created, shared, daemon threads: one per running decoder. */
  private static final class DecodeScheduler {
    static final Scheduler INSTANCE = Schedulers.newBoundedElastic(8, 1024, "otaflux-decode", 60, true);
  }
}
