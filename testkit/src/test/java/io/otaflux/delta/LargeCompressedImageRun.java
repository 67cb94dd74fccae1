package io.otaflux.delta;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import java.nio.ByteBuffer;

import io.otaflux.OtaUpdater;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.Sha256;
import io.otaflux.UpdateResult;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.testkit.InMemorySlotStore;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;

/**
 * Runs in a child JVM with a small heap: a zstd-compressed synthetic image of the given size
 * streams through the decoding stage and the whole pipeline into a store that counts the bytes
 * and keeps none. Prints the digest and the peak heap.
 */
public final class LargeCompressedImageRun {

  private static final int BLOCK = 64 * 1024;

  private LargeCompressedImageRun() {
  }

  public static void main(String[] args) throws Exception {
    long size = Long.parseLong(args[0]);
    byte[] block = new byte[BLOCK];
    new Random(1).nextBytes(block);
    MessageDigest expected = Sha256Digests.create();
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    try (OutputStream zstd = ZstdCodec.encoder(compressed, 1)) {
      for (long done = 0; done < size; done += BLOCK) {
        int n = (int) Math.min(BLOCK, size - done);
        block[0] = (byte) (done / BLOCK); // no two blocks alike at the start
        expected.update(block, 0, n);
        zstd.write(block, 0, n);
      }
    }
    byte[] transfer = compressed.toByteArray();
    Sha256 digest = Sha256.of(expected.digest());
    String json = "{\"format\":\"otaflux-manifest/1\",\"version\":\"1.0.0\",\"size\":" + size + ",\"sha256\":\""
        + digest.hex() + "\",\"url\":\"large.img\",\"created\":\"2026-12-01T00:00:00Z\",\"algorithm\":\"ed25519\","
        + "\"keyId\":\"" + "0".repeat(64) + "\",\"signature\":\"AAAA\",\"compression\":\"zstd\",\"transferUrl\":"
        + "\"large.img.zst\",\"transferSize\":" + transfer.length + ",\"transferSha256\":\"" + Sha256.digest(transfer)
        .hex() + "\"}";
    Manifest manifest = TrustedKeys.skipSignatureCheck().verify(json.getBytes(StandardCharsets.UTF_8),
        URI.create("https://fw.example/large.json"));
    DiscardingStore store = new DiscardingStore();
    ImageTransfer source = ImageTransfer.of(InMemoryFirmwareSource.of(transfer).chunkSize(16 * 1024), manifest,
        InMemorySlotStore.create(0), true);

    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    AtomicLong peak = new AtomicLong();
    UpdateResult result = OtaUpdater.create().source(source).store(store).syncEvery(8L * 1024 * 1024)
        .install(manifest.request(), event -> peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max))
        .block(Duration.ofMinutes(5));
    System.out.println("verified size=" + result.size() + " sha256=" + result.sha256().hex() + " transfer="
        + transfer.length + " downloaded=" + source.downloaded() + " peakHeapMiB=" + peak.get() / (1024 * 1024));
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
