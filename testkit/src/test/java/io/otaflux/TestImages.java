package io.otaflux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import io.otaflux.internal.Download;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Images, and wrappers that make sources and stores misbehave or report what they saw. */
final class TestImages {

  private TestImages() {
  }

  static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static UpdateRequest request() {
    return UpdateRequest.of("https://fw.example/gw-2.0.bin");
  }

  /** A download with a body of our choosing (a TestPublisher, a generator). */
  static FirmwareSource sourceOf(long totalSize, Function<ResumeFrom, Flux<ByteBuffer>> body) {
    return (request, from) -> Mono.just(Download.of(request.uri(), from.offset(),
        totalSize < 0 ? OptionalLong.empty() : OptionalLong.of(totalSize), "\"v\"", Flux.defer(() -> body.apply(from))));
  }

  /** Counts the chunks a source has emitted. */
  static FirmwareSource counting(FirmwareSource source, AtomicLong emitted) {
    return (request, from) -> source.open(request, from)
        .map(d -> Download.withBody(d, Flux.defer(d::body).doOnNext(b -> emitted.incrementAndGet())));
  }

  /** What a wrapped writer does before each write (block, count, fail). */
  interface BeforeWrite {
    void accept(SlotWriter writer, ByteBuffer chunk) throws IOException;
  }

  /** A store whose {@code nth} write (counting from 1) fails as a full disk does. */
  static SlotStore failingWrite(SlotStore store, int nth) {
    AtomicLong writes = new AtomicLong();
    return withWriteHook(store, (w, chunk) -> {
      if (writes.incrementAndGet() == nth) {
        throw new IOException("No space left on device");
      }
    });
  }

  /** A store whose writers run {@code hook} before each write. */
  static SlotStore withWriteHook(SlotStore store, BeforeWrite hook) {
    return new SlotStore() {
      @Override
      public Mono<SlotWriter> openWriter(ImageSpec image) {
        return store.openWriter(image).map(w -> new HookedWriter(w, hook));
      }

      @Override
      public Mono<Void> activate(SlotId slot, Sha256 sha256) {
        return store.activate(slot, sha256);
      }

      @Override
      public Mono<SlotId> boot() {
        return store.boot();
      }

      @Override
      public Mono<Void> markGood() {
        return store.markGood();
      }

      @Override
      public Mono<SlotId> rollback() {
        return store.rollback();
      }

      @Override
      public Mono<StoreStatus> status() {
        return store.status();
      }
    };
  }

  private static final class HookedWriter implements SlotWriter {
    private final SlotWriter w;
    private final BeforeWrite hook;

    HookedWriter(SlotWriter w, BeforeWrite hook) {
      this.w = w;
      this.hook = hook;
    }

    @Override
    public SlotId slot() {
      return w.slot();
    }

    @Override
    public long capacity() {
      return w.capacity();
    }

    @Override
    public ResumeFrom resumePoint() {
      return w.resumePoint();
    }

    @Override
    public long position() {
      return w.position();
    }

    @Override
    public void rewind(long offset) throws IOException {
      w.rewind(offset);
    }

    @Override
    public void write(ByteBuffer chunk) throws IOException {
      hook.accept(w, chunk);
      w.write(chunk);
    }

    @Override
    public void sync(@Nullable String validator) throws IOException {
      w.sync(validator);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return w.read(dst, position);
    }

    @Override
    public void commit(ImageMetadata image) throws IOException {
      w.commit(image);
    }

    @Override
    public void release() {
      w.release();
    }

    @Override
    public void abort() {
      w.abort();
    }
  }
}
