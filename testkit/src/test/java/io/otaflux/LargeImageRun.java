package io.otaflux;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;

import io.otaflux.delta.ImageTransfer;
import io.otaflux.internal.Download;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.testkit.InMemorySlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs in a child JVM with a small heap: a synthetic image of the given size streams through the
 * whole pipeline into a store that counts the bytes and keeps none; with {@code zstd} it travels
 * compressed, through the decoding stage. Prints the digest, the bytes sent and received and the
 * peak heap. Arguments: the image size, {@code plain} or {@code zstd}.
 */
public final class LargeImageRun {

  private static final int BLOCK = 64 * 1024;

  private LargeImageRun() {
  }

  public static void main(String[] args) throws IOException, NoSuchAlgorithmException {
    long size = Long.parseLong(args[0]);
    boolean zstd = args[1].equals("zstd");
    byte[] block = new byte[BLOCK];
    new Random(1).nextBytes(block);
    MessageDigest expected = MessageDigest.getInstance("SHA-256");
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    try (OutputStream out = zstd ? zstd(compressed) : OutputStream.nullOutputStream()) {
      for (long done = 0; done < size; done += BLOCK) {
        int n = (int) Math.min(BLOCK, size - done);
        if (zstd) {
          block[0] = (byte) (done / BLOCK); // no two blocks alike at the start
        }
        expected.update(block, 0, n);
        out.write(block, 0, n);
      }
    }
    Sha256 digest = Sha256.of(expected.digest());

    FirmwareSource source;
    UpdateRequest request;
    long transfer;
    LongSupplier downloaded;
    if (zstd) {
      byte[] bytes = compressed.toByteArray();
      Manifest manifest = manifest(size, digest, bytes);
      ImageTransfer decoding = ImageTransfer.of(InMemoryFirmwareSource.of(bytes).chunkSize(16 * 1024), manifest,
          InMemorySlotStore.create(0), true);
      source = decoding;
      request = manifest.request();
      transfer = bytes.length;
      downloaded = decoding::downloaded;
    } else {
      AtomicLong sent = new AtomicLong();
      source = synthetic(size, block, sent);
      request = UpdateRequest.of("https://fw.example/large.bin").withSha256(digest);
      transfer = size;
      downloaded = sent::get;
    }

    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    AtomicLong peak = new AtomicLong();
    UpdateResult result = OtaUpdater.create().source(source).store(new DiscardingStore()).syncEvery(8L * 1024 * 1024)
        .install(request, event -> peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max))
        .block(Duration.ofMinutes(5));
    System.out.println("verified size=" + result.size() + " sha256=" + result.sha256().hex() + " transfer="
        + transfer + " downloaded=" + downloaded.getAsLong() + " peakHeapMiB=" + peak.get() / (1024 * 1024));
  }

  private static OutputStream zstd(OutputStream out) throws IOException {
    ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(out, 1);
    zstd.setChecksum(true);
    return zstd;
  }

  /** An unsigned manifest (the run skips the signature check) for the zstd transfer of the image. */
  private static Manifest manifest(long size, Sha256 digest, byte[] transfer) {
    String json = "{\"format\":\"otaflux-manifest/1\",\"version\":\"1.0.0\",\"size\":" + size + ",\"sha256\":\""
        + digest.hex() + "\",\"url\":\"large.img\",\"created\":\"2026-12-01T00:00:00Z\",\"algorithm\":\"ed25519\","
        + "\"keyId\":\"" + "0".repeat(64) + "\",\"signature\":\"AAAA\",\"compression\":\"zstd\",\"transferUrl\":"
        + "\"large.img.zst\",\"transferSize\":" + transfer.length + ",\"transferSha256\":\"" + Sha256.digest(transfer)
        .hex() + "\"}";
    return TrustedKeys.skipSignatureCheck().verify(json.getBytes(StandardCharsets.UTF_8),
        URI.create("https://fw.example/large.json"));
  }

  /** The image, generated block by block as it is read. */
  private static FirmwareSource synthetic(long size, byte[] block, AtomicLong sent) {
    return (request, from) -> Mono.just(Download.of(request.uri(), 0, OptionalLong.of(size), null,
        Flux.<ByteBuffer, Long>generate(() -> 0L, (offset, sink) -> {
          if (offset >= size) {
            sink.complete();
            return offset;
          }
          int n = (int) Math.min(BLOCK, size - offset);
          sink.next(ByteBuffer.wrap(block, 0, n).asReadOnlyBuffer());
          return offset + n;
        }).doOnNext(b -> sent.addAndGet(b.remaining()))));
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
