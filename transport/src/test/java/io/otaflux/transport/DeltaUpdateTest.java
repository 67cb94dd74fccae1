package io.otaflux.transport;

import static io.otaflux.transport.Servers.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.delta.Compression;
import io.otaflux.delta.ImageTransfer;
import io.otaflux.delta.PublishedImage;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.SigningKey;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.testkit.InMemorySlotStore;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.StaticFile;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** Compressed and delta updates from static files on a real HTTPS server, into a slot store. */
@ExtendWith(NoLeaks.class)
class DeltaUpdateTest {

  private static final SigningKey KEY = SigningKey.generate();
  private static final byte[] OLD = oldImage();
  private static final byte[] NEW = newImage(OLD);

  @RegisterExtension
  final Servers servers = new Servers();

  @TempDir
  Path dir;

  /** The files of one publication on a server. */
  private record Site(TestServer server, Manifest manifest, PublishedImage files, byte[] transfer, byte[] chunks) {
    URI manifestUri() {
      return URI.create(server.url("/fw/manifest.json"));
    }
  }

  private static byte[] oldImage() {
    // half random (incompressible), half text-like, as a root file system holds both
    byte[] image = new byte[3 << 20];
    Random random = new Random(17);
    random.nextBytes(image);
    byte[] words = "libc.so.6 /usr/lib/x86_64-linux-gnu openssl nginx python3.11 ".getBytes();
    for (int i = image.length / 2; i < image.length; i++) {
      image[i] = words[(i * 7 + (image[i] & 3)) % words.length];
    }
    return image;
  }

  private static byte[] newImage(byte[] old) {
    // a security update: 200 bytes inserted at 1 MiB, 20 KiB rewritten at 2 MiB, 10 KiB appended
    Random random = new Random(18);
    byte[] inserted = new byte[200];
    random.nextBytes(inserted);
    byte[] image = new byte[old.length + 200 + 10_240];
    System.arraycopy(old, 0, image, 0, 1 << 20);
    System.arraycopy(inserted, 0, image, 1 << 20, 200);
    System.arraycopy(old, 1 << 20, image, (1 << 20) + 200, old.length - (1 << 20));
    byte[] rewritten = new byte[20_480];
    random.nextBytes(rewritten);
    System.arraycopy(rewritten, 0, image, 2 << 20, rewritten.length);
    byte[] tail = new byte[10_240];
    random.nextBytes(tail);
    System.arraycopy(tail, 0, image, old.length + 200, tail.length);
    return image;
  }

  private Site publish(byte[] image, Compression compression, boolean delta, UnaryOperator<StaticFile> chunksFault,
      UnaryOperator<Manifest.Builder> manifestChange) throws IOException {
    Path file = dir.resolve("fw.img");
    Files.write(file, image);
    PublishedImage files = PublishedImage.of(file).compression(compression).delta(delta).level(3).write();
    Manifest manifest = manifestChange.apply(Manifest.builder().version("2.0.0").url("fw.img").files(files)).sign(KEY);
    byte[] transfer = Files.readAllBytes(files.transferFile());
    TestServer server = servers.https()
        .route("/fw/fw.img", StaticFile.of(image))
        .route("/fw/" + files.transferFile().getFileName(), StaticFile.of(transfer))
        .route("/fw/manifest.json", StaticFile.of(manifest.json().getBytes()));
    byte[] chunks = new byte[0];
    if (files.indexFile().isPresent()) {
      chunks = Files.readAllBytes(files.chunksFile().orElseThrow());
      server.route("/fw/fw.img.idx", StaticFile.of(Files.readAllBytes(files.indexFile().get())));
      server.route("/fw/" + files.chunksFile().get().getFileName(), chunksFault.apply(StaticFile.of(chunks)));
    }
    return new Site(server, manifest, files, transfer, chunks);
  }

  private Site publish(byte[] image, Compression compression, boolean delta) throws IOException {
    return publish(image, compression, delta, f -> f, b -> b);
  }

  /** A store running OLD in slot B, confirmed. */
  private static InMemorySlotStore runningOld() {
    InMemorySlotStore store = InMemorySlotStore.create(8 << 20);
    OtaUpdater.create().source(InMemoryFirmwareSource.of(OLD)).store(store)
        .update(UpdateRequest.of("https://factory/old.img").withSha256(Sha256.digest(OLD))).blockLast(TIMEOUT);
    assertThat(store.boot().block(TIMEOUT)).isEqualTo(SlotId.B);
    store.markGood().block(TIMEOUT);
    return store;
  }

  private static Manifest fetch(Site site, InMemorySlotStore store) {
    return ManifestUpdater.of(Servers.trustingRoot(), store, TrustedKeys.of(KEY.publicKey())).fetch(site.manifestUri())
        .block(TIMEOUT);
  }

  private static OtaUpdater updater(ImageTransfer transfer, InMemorySlotStore store, int retries) {
    return OtaUpdater.create().source(transfer).store(store).retry(retries, Duration.ofMillis(10), Duration.ofMillis(50))
        .syncEvery(64 * 1024);
  }

  private static void assertNothingActivated(InMemorySlotStore store) {
    assertThat(store.status().block(TIMEOUT).next()).isEqualTo(SlotId.B);
  }

  private static Detail detail(Throwable e) {
    assertThat(e).isInstanceOf(OtaException.class);
    return ((OtaException) e).detail();
  }

  private static long rangeBytes(TestServer server, String path) {
    return server.requests().stream().filter(r -> r.path().equals(path) && r.header("Range") != null)
        .mapToLong(r -> {
          String[] ab = r.header("Range").substring(6).split("-");
          return Long.parseLong(ab[1]) - Long.parseLong(ab[0]) + 1;
        }).sum();
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"ZSTD", "XZ", "GZIP"})
  void aCompressedImageStreamsIntoTheSlotAndOnlyTheCompressedBytesCrossTheNetwork(Compression compression)
      throws IOException {
    Site site = publish(NEW, compression, false);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Activated))
        .expectNext(new UpdateEvent.Activated(SlotId.A))
        .verifyComplete();

    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    assertThat(transfer.downloaded()).isEqualTo(site.transfer().length).isLessThan(NEW.length);
    assertThat(transfer.reused()).isZero();
    assertThat(site.server().requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img");
  }

  @Test
  void aTruncatedCompressedStreamFailsAsACorruptImageAndNothingIsActivated() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, false);
    byte[] truncated = Arrays.copyOf(site.transfer(), site.transfer().length - 100);
    site.server().route("/fw/fw.img.zst", StaticFile.of(truncated));
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.CORRUPT_IMAGE))
        .verify(TIMEOUT);
    assertNothingActivated(store);
  }

  @Test
  void aDecompressionBombIsRefusedTheMomentItExpandsPastTheManifestSize() throws IOException {
    byte[] bomb = new byte[6 << 20];
    Site site = publish(bomb, Compression.ZSTD, false, f -> f, b -> b.image(64 * 1024, Sha256.digest(new byte[0])));
    assertThat(site.transfer().length).isLessThan(4096);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.SIZE_MISMATCH))
        .verify(TIMEOUT);
    assertThat(store.contents(SlotId.A).length).isLessThanOrEqualTo(64 * 1024);
    assertNothingActivated(store);
  }

  @Test
  void aDeltaCopiesWhatTheRunningSlotHoldsAndFetchesOnlyTheMissingChunksWithRangeRequests() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Activated))
        .expectNext(new UpdateEvent.Activated(SlotId.A))
        .verifyComplete();

    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    assertThat(transfer.reused()).isGreaterThan(NEW.length * 9L / 10);
    assertThat(transfer.downloaded()).isLessThan(site.transfer().length / 5);
    long fetched = rangeBytes(site.server(), "/fw/fw.img.chunks.zst");
    assertThat(fetched).isPositive().isLessThan(site.transfer().length / 10);
    assertThat(site.server().requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img.zst");
    assertThat(site.server().requests()).filteredOn(r -> r.path().equals("/fw/fw.img.chunks.zst"))
        .allSatisfy(r -> assertThat(r.header("Range")).matches("bytes=\\d+-\\d+"));
  }

  @Test
  void anUnrelatedImageIsDownloadedAsTheWholeCompressedImageAndTheUpdateSaysWhy() throws IOException {
    byte[] unrelated = new byte[NEW.length];
    new Random(99).nextBytes(unrelated);
    Site site = publish(unrelated, Compression.ZSTD, true);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);
    List<UpdateEvent> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
    transfer.notices().subscribe(notices::add);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Activated))
        .expectNext(new UpdateEvent.Activated(SlotId.A))
        .verifyComplete();

    assertThat(notices).singleElement().satisfies(e -> {
      UpdateEvent.DeltaFallback f = (UpdateEvent.DeltaFallback) e;
      assertThat(f.detail()).isNull();
      assertThat(f.reason()).contains("not less than the whole compressed image");
    });
    assertThat(store.contents(SlotId.A)).isEqualTo(unrelated);
    long index = site.files().indexSize();
    assertThat(transfer.downloaded()).isLessThanOrEqualTo(site.transfer().length + index + 1);
    assertThat(rangeBytes(site.server(), "/fw/fw.img.chunks.zst")).isEqualTo(1);
  }

  @Test
  void aFlippedBitInTheRunningSlotNeverReachesTheNewSlot() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    InMemorySlotStore clean = runningOld();
    Manifest manifest = fetch(site, clean);
    ImageTransfer cleanRun = ImageTransfer.of(Servers.trustingRoot(), manifest, clean, true);
    updater(cleanRun, clean, 0).update(manifest.request()).blockLast(TIMEOUT);

    InMemorySlotStore store = runningOld();
    store.damageRunning(100_000, (byte) (OLD[100_000] ^ 0x10));
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);
    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Activated))
        .expectNext(new UpdateEvent.Activated(SlotId.A))
        .verifyComplete();

    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    assertThat(transfer.downloaded()).isGreaterThan(cleanRun.downloaded());
    assertThat(transfer.reused()).isLessThan(cleanRun.reused());
  }

  @Test
  void aChunkCorruptedOnTheWireFailsAsACorruptImageAndNothingIsActivated() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true, f -> f, b -> b);
    // the appended tail is new: its last chunk is fetched
    site.server().route("/fw/fw.img.chunks.zst", StaticFile.of(site.chunks()).flippingByteAt(site.chunks().length - 20));
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.CORRUPT_IMAGE))
        .verify(TIMEOUT);
    assertNothingActivated(store);
  }

  @Test
  void aServerThatIgnoresRangeMakesTheUpdateSaySoAndDownloadTheWholeCompressedImage() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true, StaticFile::ignoringRange, b -> b);
    InMemorySlotStore store = runningOld();

    List<UpdateEvent> events = ManifestUpdater.of(Servers.trustingRoot(), store, TrustedKeys.of(KEY.publicKey()))
        .update(site.manifestUri()).collectList().block(TIMEOUT);

    assertThat(events).filteredOn(UpdateEvent.DeltaFallback.class::isInstance).singleElement()
        .satisfies(e -> {
          UpdateEvent.DeltaFallback f = (UpdateEvent.DeltaFallback) e;
          assertThat(f.detail()).isEqualTo(Detail.RANGE_NOT_SUPPORTED);
          assertThat(f.reason()).contains("Range").contains("whole image");
        });
    assertThat(events).last().isEqualTo(new UpdateEvent.Activated(SlotId.A));
    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
  }

  @Test
  void withDeltaOnlyAServerThatIgnoresRangeFailsWithThatReasonAndNothingIsWritten() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true, StaticFile::ignoringRange, b -> b);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true).deltaOnly();

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> {
          assertThat(detail(e)).isEqualTo(Detail.RANGE_NOT_SUPPORTED);
          assertThat(e.getMessage()).contains("Only a delta was allowed");
        })
        .verify(TIMEOUT);
    assertNothingActivated(store);
    assertThat(store.contents(SlotId.A)).isEmpty();
  }

  @Test
  void aMissingIndexMakesTheUpdateSaySoAndDownloadTheWholeCompressedImage() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    site.server().route("/fw/fw.img.idx", (request, response, n) -> response.status(404).send());
    InMemorySlotStore store = runningOld();

    List<UpdateEvent> events = ManifestUpdater.of(Servers.trustingRoot(), store, TrustedKeys.of(KEY.publicKey()))
        .update(site.manifestUri()).collectList().block(TIMEOUT);

    assertThat(events).filteredOn(UpdateEvent.DeltaFallback.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((UpdateEvent.DeltaFallback) e).reason()).contains("no delta index"));
    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
  }

  @Test
  void anIndexThatDoesNotMatchTheManifestFailsAsADigestMismatchBeforeAnyChunkIsFetched() throws IOException {
    Site other = publish(OLD, Compression.ZSTD, true);
    byte[] otherIndex = Files.readAllBytes(other.files().indexFile().orElseThrow());
    Site site = publish(NEW, Compression.ZSTD, true);
    site.server().route("/fw/fw.img.idx", StaticFile.of(otherIndex));
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);

    StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.DIGEST_MISMATCH))
        .verify(TIMEOUT);
    assertNothingActivated(store);
    assertThat(site.server().requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img.zst",
        "/fw/fw.img.chunks.zst");
  }

  @Test
  void anAbortInTheMiddleOfADeltaEndsAbortedWithTheStoreAsItWas() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer transfer = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);
    Sinks.Empty<Void> abort = Sinks.empty();

    StepVerifier.create(updater(transfer, store, 0).progressEvery(Duration.ZERO).update(manifest.request(),
            abort.asMono())
            .doOnNext(e -> {
              if (e instanceof UpdateEvent.Progress) {
                abort.tryEmitEmpty();
              }
            }))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.ABORTED))
        .verify(TIMEOUT);
    assertNothingActivated(store);
    assertThat(store.status().block(TIMEOUT).slot(SlotId.A).state().label()).isNotEqualTo("trial");
  }

  @Test
  void aHalfDoneDeltaResumesWhereTheSlotLeftOffAndDoesNotFetchTwice() throws IOException {
    // the first range request (after the probe) breaks after 5 KiB
    Site site = publish(NEW, Compression.ZSTD, true, f -> f.cuttingAnswer(1, 5_000), b -> b);
    InMemorySlotStore store = runningOld();
    Manifest manifest = fetch(site, store);
    ImageTransfer first = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);
    StepVerifier.create(updater(first, store, 0).update(manifest.request()))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.NETWORK))
        .verify(TIMEOUT);
    assertNothingActivated(store);

    ImageTransfer second = ImageTransfer.of(Servers.trustingRoot(), manifest, store, true);
    List<UpdateEvent> events = updater(second, store, 0).update(manifest.request()).collectList().block(TIMEOUT);

    UpdateEvent.Resolved resolved = (UpdateEvent.Resolved) events.stream()
        .filter(UpdateEvent.Resolved.class::isInstance).findFirst().orElseThrow();
    // the last sync (every 64 KiB) before the break, just below the first fetched chunk at 1 MiB
    assertThat(resolved.resumedFrom()).isGreaterThan((1 << 20) - 128 * 1024);
    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    assertThat(second.reused()).isLessThan(NEW.length - resolved.resumedFrom() + 1);
    assertThat(events).last().isEqualTo(new UpdateEvent.Activated(SlotId.A));
  }
}
