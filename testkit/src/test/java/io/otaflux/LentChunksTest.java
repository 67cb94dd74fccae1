package io.otaflux;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.otaflux.OtaException.Reason;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.SlotStore;
import io.otaflux.testkit.InMemorySlotStore;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A source that lends its buffers ({@link ImageDownload#lentBody()}) gets every one back, after it
 * was hashed and written and never before, whether the update completes, a write fails or the
 * update is cancelled with chunks still queued for the writer.
 */
class LentChunksTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final int CHUNK = 4096;

  private final byte[] image = TestImages.random(400_000, 18);
  private final InMemorySlotStore store = InMemorySlotStore.create(1 << 20);
  private final Lender lender = new Lender(image);

  @Test
  void everyLentChunkIsGivenBackAndTheDigestCoversTheBytesWrittenBeforeEachWasGivenBack() {
    UpdateResult result = OtaUpdater.create().source(lender).store(store)
        .install(TestImages.request().withSha256(Sha256.digest(image))).block(TIMEOUT);

    assertThat(result.size()).isEqualTo(image.length);
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
    // a chunk is spoiled as it is given back: touched after that, the digest or the slot would differ
    assertThat(lender.lent.get()).isEqualTo((image.length + CHUNK - 1) / CHUNK);
    assertThat(lender.outstanding()).isEmpty();
  }

  @Test
  void chunksQueuedForTheWriterWhenAWriteFailsAreGivenBack() {
    // the third write fails once the source has lent chunks beyond it (queued for the writer)
    AtomicInteger writes = new AtomicInteger();
    SlotStore failing = TestImages.withWriteHook(store, (w, chunk) -> {
      if (writes.incrementAndGet() == 3) {
        lender.await(() -> lender.lent.get() > 3, TIMEOUT);
        throw new java.io.IOException("No space left on device");
      }
    });
    StepVerifier.create(OtaUpdater.create().source(lender).store(failing).update(TestImages.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(Reason.STORAGE))
        .verify(TIMEOUT);

    assertThat(lender.lent.get()).isGreaterThan(3);
    assertThat(lender.outstanding()).isEmpty();
  }

  @Test
  void chunksQueuedForTheWriterWhenTheUpdateIsCancelledAreGivenBack() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch goOn = new CountDownLatch(1);
    AtomicInteger writes = new AtomicInteger();
    SlotStore blocking = TestImages.withWriteHook(store, (w, chunk) -> {
      if (writes.incrementAndGet() == 1) {
        writing.countDown();
        try {
          goOn.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    Disposable run = OtaUpdater.create().source(lender).store(blocking).chunksInFlight(8)
        .update(TestImages.request()).subscribe(e -> { }, e -> { });
    assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(lender.await(() -> lender.outstanding().size() > 1, TIMEOUT))
        .as("the chunk being written and the queue are lent").isTrue();

    run.dispose();
    goOn.countDown();

    // the writer thread gives back the chunk it held once its write returns
    assertThat(lender.await(() -> lender.outstanding().isEmpty(), TIMEOUT)).as("every lent chunk given back").isTrue();
    assertThat(lender.lent.get()).isLessThan((image.length + CHUNK - 1) / CHUNK);
  }

  /** Lends each chunk as a fresh direct buffer, spoils it when it comes back, and counts what is out. */
  private static final class Lender implements FirmwareSource {
    private final byte[] image;
    private final Set<ByteBuffer> out = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    final AtomicLong lent = new AtomicLong();

    Lender(byte[] image) {
      this.image = image;
    }

    List<ByteBuffer> outstanding() {
      synchronized (out) {
        return List.copyOf(out);
      }
    }

    /** Waits, woken by every lend and give-back, until {@code condition} holds; false after {@code timeout}. */
    boolean await(java.util.function.BooleanSupplier condition, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (out) {
        while (!condition.getAsBoolean()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(out, left);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
        return true;
      }
    }

    @Override
    public Mono<ImageDownload> open(UpdateRequest request, io.otaflux.spi.ResumeFrom from) {
      long offset = from.offset();
      Flux<ByteBuffer> chunks = Flux.range(0, (int) ((image.length - offset + CHUNK - 1) / CHUNK)).map(i -> {
        int start = (int) offset + i * CHUNK;
        int n = Math.min(CHUNK, image.length - start);
        ByteBuffer chunk = ByteBuffer.allocateDirect(n).put(image, start, n).flip();
        synchronized (out) {
          out.add(chunk);
          lent.incrementAndGet();
          out.notifyAll();
        }
        return chunk;
      });
      return Mono.just(new LentDownload(request.uri(), offset, OptionalLong.of(image.length), "\"v\"", List.of(),
          chunks, chunk -> {
            synchronized (out) {
              if (out.remove(chunk)) {
                for (int i = 0; i < chunk.capacity(); i++) {
                  chunk.put(i, (byte) 0x5a); // spoiled, as a reused receive buffer would be
                }
                out.notifyAll();
              }
            }
          }));
    }
  }

  /** A download whose body is only lent; its other parts are the record's. */
  private record LentDownload(URI effectiveUri, long offset, OptionalLong totalSize, @Nullable String validator,
      List<String> warnings, Flux<ByteBuffer> lentBody, Consumer<ByteBuffer> onGiveBack) implements ImageDownload {

    @Override
    public Flux<ByteBuffer> body() {
      return Flux.error(new AssertionError("the update reads the lent body"));
    }

    @Override
    public void giveBack(ByteBuffer chunk) {
      onGiveBack.accept(chunk);
    }

    @Override
    public void discard() {
      // nothing held
    }
  }
}
