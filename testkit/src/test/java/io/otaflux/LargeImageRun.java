package io.otaflux;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs in a child JVM with a small heap: streams a synthetic image of the given size through the
 * whole pipeline into a store that discards the bytes, and prints the digest and the peak heap.
 */
public final class LargeImageRun {

  private static final int BLOCK = 64 * 1024;

  private LargeImageRun() {
  }

  public static void main(String[] args) {
    long size = Long.parseLong(args[0]);
    byte[] block = new byte[BLOCK];
    new Random(1).nextBytes(block);
    MessageDigest expected = Sha256.newDigest();
    for (long done = 0; done < size; done += BLOCK) {
      expected.update(block, 0, (int) Math.min(BLOCK, size - done));
    }
    Sha256 digest = Sha256.of(expected.digest());

    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    AtomicLong peak = new AtomicLong();
    UpdateResult result = OtaUpdater.create()
        .source(synthetic(size, block))
        .store(new DiscardingStore())
        .syncEvery(8L * 1024 * 1024)
        .install(UpdateRequest.of("https://fw.example/large.bin").withSha256(digest),
            event -> peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max))
        .block(Duration.ofMinutes(5));
    System.out.println("verified size=" + result.size() + " sha256=" + result.sha256().hex()
        + " peakHeapMiB=" + peak.get() / (1024 * 1024));
  }

  private static FirmwareSource synthetic(long size, byte[] block) {
    return (request, from) -> Mono.just(new ImageDownload() {
      @Override
      public URI effectiveUri() {
        return request.uri();
      }

      @Override
      public long offset() {
        return 0;
      }

      @Override
      public OptionalLong totalSize() {
        return OptionalLong.of(size);
      }

      @Override
      public @Nullable String validator() {
        return null;
      }

      @Override
      public List<String> warnings() {
        return List.of();
      }

      @Override
      public Flux<ByteBuffer> body() {
        return Flux.generate(() -> 0L, (offset, sink) -> {
          if (offset >= size) {
            sink.complete();
            return offset;
          }
          int n = (int) Math.min(BLOCK, size - offset);
          sink.next(ByteBuffer.wrap(block, 0, n).asReadOnlyBuffer());
          return offset + n;
        });
      }

      @Override
      public void discard() {
      }
    });
  }

  /** Counts bytes and forgets them: a slot as large as a long. */
  private static final class DiscardingStore implements SlotStore {
    private volatile @Nullable Sha256 committed;

    @Override
    public Mono<SlotWriter> openWriter(ImageSpec image) {
      return Mono.just(new SlotWriter() {
        private long position;

        @Override
        public SlotId slot() {
          return SlotId.B;
        }

        @Override
        public long capacity() {
          return Long.MAX_VALUE;
        }

        @Override
        public ResumeFrom resumePoint() {
          return ResumeFrom.start();
        }

        @Override
        public long position() {
          return position;
        }

        @Override
        public void rewind(long offset) {
          position = offset;
        }

        @Override
        public void write(ByteBuffer chunk) {
          position += chunk.remaining();
          chunk.position(chunk.limit());
        }

        @Override
        public void sync(@Nullable String validator) {
        }

        @Override
        public int read(ByteBuffer dst, long from) {
          return -1;
        }

        @Override
        public void commit(ImageMetadata image) {
          committed = image.sha256();
        }

        @Override
        public void release() {
        }

        @Override
        public void abort() {
        }
      });
    }

    @Override
    public Mono<Void> activate(SlotId slot, Sha256 sha256) {
      return sha256.equals(committed) ? Mono.empty() : Mono.error(new IllegalStateException("not committed"));
    }

    @Override
    public Mono<SlotId> boot() {
      return Mono.just(SlotId.A);
    }

    @Override
    public Mono<Void> markGood() {
      return Mono.empty();
    }

    @Override
    public Mono<SlotId> rollback() {
      return Mono.just(SlotId.A);
    }

    @Override
    public Mono<StoreStatus> status() {
      return Mono.error(new UnsupportedOperationException("a discarding store keeps no status"));
    }
  }
}
