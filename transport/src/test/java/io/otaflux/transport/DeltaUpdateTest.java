package io.otaflux.transport;

import static io.otaflux.transport.Servers.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * A store running OLD in slot B, confirmed, installed by a full download from a manifest that offers
   * deltas: that update kept OLD's chunk index with slot B.
   */
  private InMemorySlotStore runningOldWithKeptIndex() throws IOException {
    Site old = publish(OLD, Compression.ZSTD, true);
    InMemorySlotStore store = InMemorySlotStore.create(8 << 20);
    Manifest manifest = fetch(old, store);
    updater(ImageTransfer.of(Servers.trustingRoot(), manifest, store, false), store, 0).update(manifest.request())
        .blockLast(TIMEOUT);
    assertThat(store.boot().block(TIMEOUT)).isEqualTo(SlotId.B);
    store.markGood().block(TIMEOUT);
    assertThat(store.loadChunkIndex(SlotId.B).block(TIMEOUT)).isNotEmpty();
    return store;
  }

  /** Runs an update to the activation of slot A and returns its events. */
  private static List<UpdateEvent> events(Run run) {
    List<UpdateEvent> events = updater(run.transfer(), run.store(), 0).update(run.manifest().request()).collectList()
        .block(TIMEOUT);
    assertThat(events).last().isEqualTo(new UpdateEvent.Activated(run.store().status().block(TIMEOUT).next()));
    return events;
  }

  private static List<String> warnings(List<UpdateEvent> events) {
    return events.stream().filter(UpdateEvent.Resolved.class::isInstance)
        .flatMap(e -> ((UpdateEvent.Resolved) e).warnings().stream()).toList();
  }

  private static Manifest fetch(Site site, InMemorySlotStore store) {
    return ManifestUpdater.of(Servers.trustingRoot(), store, TrustedKeys.of(KEY.publicKey())).fetch(site.manifestUri())
        .block(TIMEOUT);
  }

  private static OtaUpdater updater(ImageTransfer transfer, InMemorySlotStore store, int retries) {
    return OtaUpdater.create().source(transfer).store(store).retry(retries, Duration.ofMillis(10), Duration.ofMillis(50))
        .syncEvery(64 * 1024);
  }

  /** One update of a store running OLD to what a site publishes, through the delta when it offers one. */
  private record Run(Site site, InMemorySlotStore store, Manifest manifest, ImageTransfer transfer) {

    static Run of(Site site) {
      InMemorySlotStore store = runningOld();
      Manifest manifest = fetch(site, store);
      return new Run(site, store, manifest, ImageTransfer.of(Servers.trustingRoot(), manifest, store, true));
    }

    Run deltaOnly() {
      return new Run(site, store, manifest, transfer.deltaOnly());
    }

    /** Runs it to the activation of slot A and returns the slot's bytes. */
    byte[] activates() {
      StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
          .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Activated))
          .expectNext(new UpdateEvent.Activated(SlotId.A))
          .verifyComplete();
      return store.contents(SlotId.A);
    }

    /** Runs it to a failure, checks nothing was activated, and returns the failure. */
    OtaException fails(Detail expected) {
      Throwable[] failure = new Throwable[1];
      StepVerifier.create(updater(transfer, store, 0).update(manifest.request()))
          .thenConsumeWhile(e -> true)
          .expectErrorSatisfies(e -> {
            assertThat(detail(e)).isEqualTo(expected);
            failure[0] = e;
          })
          .verify(TIMEOUT);
      assertNothingActivated(store);
      return (OtaException) failure[0];
    }
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
        .flatMap(r -> Arrays.stream(r.header("Range").substring(6).split(",")))
        .mapToLong(spec -> {
          String[] ab = spec.split("-");
          return Long.parseLong(ab[1]) - Long.parseLong(ab[0]) + 1;
        }).sum();
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"ZSTD", "XZ", "GZIP"})
  void aCompressedImageStreamsIntoTheSlotAndOnlyTheCompressedBytesCrossTheNetwork(Compression compression)
      throws IOException {
    Run run = Run.of(publish(NEW, compression, false));

    assertThat(run.activates()).isEqualTo(NEW);
    assertThat(run.transfer().downloaded()).isEqualTo(run.site().transfer().length).isLessThan(NEW.length);
    assertThat(run.transfer().reused()).isZero();
    assertThat(run.site().server().requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img");
  }

  @Test
  void aTruncatedCompressedStreamFailsAsACorruptImageAndNothingIsActivated() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, false);
    site.server().route("/fw/fw.img.zst", StaticFile.of(Arrays.copyOf(site.transfer(), site.transfer().length - 100)));

    Run.of(site).fails(Detail.CORRUPT_IMAGE);
  }

  @Test
  void aDecompressionBombIsRefusedTheMomentItExpandsPastTheManifestSize() throws IOException {
    byte[] bomb = new byte[6 << 20];
    Site site = publish(bomb, Compression.ZSTD, false, f -> f, b -> b.image(64 * 1024, Sha256.digest(new byte[0])));
    assertThat(site.transfer().length).isLessThan(4096);
    Run run = Run.of(site);

    run.fails(Detail.SIZE_MISMATCH);
    assertThat(run.store().contents(SlotId.A).length).isLessThanOrEqualTo(64 * 1024);
  }

  @Test
  void aDeltaCopiesWhatTheRunningSlotHoldsAndFetchesOnlyTheMissingChunksSeveralRangesPerRequest() throws IOException {
    Run run = Run.of(publish(NEW, Compression.ZSTD, true));

    assertThat(run.activates()).isEqualTo(NEW);
    assertThat(run.transfer().reused()).isGreaterThan(NEW.length * 9L / 10);
    assertThat(run.transfer().downloaded()).isLessThan(run.site().transfer().length / 5);
    TestServer server = run.site().server();
    long fetched = rangeBytes(server, "/fw/fw.img.chunks.zst");
    assertThat(fetched).isPositive().isLessThan(run.site().transfer().length / 10);
    assertThat(server.requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img.zst");
    // the probe asks for one byte; the chunks then come in one request of several ranges (multipart/byteranges)
    List<String> ranges = server.requests().stream().filter(r -> r.path().equals("/fw/fw.img.chunks.zst"))
        .map(r -> r.header("Range")).toList();
    assertThat(ranges).hasSize(2);
    assertThat(ranges.get(0)).isEqualTo("bytes=0-0");
    assertThat(ranges.get(1)).matches("bytes=\\d+-\\d+(,\\d+-\\d+)+");
  }

  @Test
  void aFileChangedOnTheServerBetweenTwoRangeRequestsIsRefusedAsInconsistentAndNothingIsActivated()
      throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    byte[] changed = site.chunks().clone();
    changed[changed.length - 20] ^= 0x01;
    StaticFile before = StaticFile.of(site.chunks());
    StaticFile after = StaticFile.of(changed);
    // the probe sees the first file (and its ETag), the range requests the second
    site.server().route("/fw/fw.img.chunks.zst", (request, response, n) -> (n == 0 ? before : after)
        .handle(request, response, n));

    OtaException e = Run.of(site).fails(Detail.INCONSISTENT_RESPONSE);

    assertThat(e.getMessage()).contains("changed on the server").contains(after.etag());
  }

  @Test
  void anUnrelatedImageIsDownloadedAsTheWholeCompressedImageAndTheUpdateSaysWhy() throws IOException {
    byte[] unrelated = new byte[NEW.length];
    new Random(99).nextBytes(unrelated);
    Run run = Run.of(publish(unrelated, Compression.ZSTD, true));
    List<UpdateEvent> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
    run.transfer().notices().subscribe(notices::add);

    assertThat(run.activates()).isEqualTo(unrelated);
    assertThat(notices).singleElement().satisfies(e -> {
      UpdateEvent.DeltaFallback f = (UpdateEvent.DeltaFallback) e;
      assertThat(f.detail()).isNull();
      assertThat(f.reason()).contains("not less than the whole compressed image");
    });
    long index = run.site().files().indexSize();
    assertThat(run.transfer().downloaded()).isLessThanOrEqualTo(run.site().transfer().length + index + 1);
    assertThat(rangeBytes(run.site().server(), "/fw/fw.img.chunks.zst")).isEqualTo(1);
  }

  @Test
  void aFlippedBitInTheRunningSlotNeverReachesTheNewSlot() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    Run clean = Run.of(site);
    clean.activates();

    InMemorySlotStore store = runningOld();
    store.damageRunning(100_000, (byte) (OLD[100_000] ^ 0x10));
    Run damaged = new Run(site, store, clean.manifest(),
        ImageTransfer.of(Servers.trustingRoot(), clean.manifest(), store, true));

    assertThat(damaged.activates()).isEqualTo(NEW);
    assertThat(damaged.transfer().downloaded()).isGreaterThan(clean.transfer().downloaded());
    assertThat(damaged.transfer().reused()).isLessThan(clean.transfer().reused());
  }

  @Test
  void aDeltaOntoASlotWhoseChunkIndexWasKeptReadsOnlyTheChunksItCopiesAndKeepsTheNewIndex() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    Run scanned = Run.of(site);
    List<UpdateEvent> scanEvents = events(scanned);
    InMemorySlotStore store = runningOldWithKeptIndex();
    Run kept = new Run(site, store, scanned.manifest(),
        ImageTransfer.of(Servers.trustingRoot(), scanned.manifest(), store, true));

    List<UpdateEvent> keptEvents = events(kept);

    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    // the same plan as the scan's, without reading the running slot but for the chunks copied
    assertThat(kept.transfer().downloaded()).isEqualTo(scanned.transfer().downloaded());
    assertThat(kept.transfer().reused()).isEqualTo(scanned.transfer().reused()).isGreaterThan(NEW.length * 9L / 10);
    assertThat(store.runningBytesRead()).isEqualTo(kept.transfer().reused());
    assertThat(scanned.store().runningBytesRead()).isEqualTo(OLD.length + scanned.transfer().reused());
    assertThat(warnings(keptEvents)).isEmpty();
    assertThat(warnings(scanEvents)).singleElement().asString().contains("The running slot b was scanned")
        .contains("no chunk index is kept with it");

    // the delta kept NEW's index with slot A: the next delta from A reads nothing but what it copies
    assertThat(store.boot().block(TIMEOUT)).isEqualTo(SlotId.A);
    store.markGood().block(TIMEOUT);
    long before = store.runningBytesRead();
    Run again = new Run(site, store, scanned.manifest(),
        ImageTransfer.of(Servers.trustingRoot(), scanned.manifest(), store, true));
    assertThat(warnings(events(again))).isEmpty();
    assertThat(store.contents(SlotId.B)).isEqualTo(NEW);
    assertThat(again.transfer().reused()).isEqualTo(NEW.length);
    assertThat(store.runningBytesRead() - before).isEqualTo(NEW.length);
  }

  @Test
  void aStaleDamagedTornOrOlderKeptIndexMakesTheDeltaScanTheSlotAndSaySo() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    InMemorySlotStore other = runningOldWithKeptIndex();
    events(new Run(site, other, fetch(site, other), ImageTransfer.of(Servers.trustingRoot(), fetch(site, other),
        other, true)));
    byte[] newImagesIndex = other.loadChunkIndex(SlotId.A).block(TIMEOUT);
    Map<String, UnaryOperator<byte[]>> cases = new LinkedHashMap<>();
    cases.put("describes another image", kept -> newImagesIndex);
    cases.put("its checksum does not match", kept -> {
      byte[] b = kept.clone();
      b[b.length / 2] ^= 0x04;
      return b;
    });
    cases.put("damaged (", kept -> Arrays.copyOf(kept, kept.length / 3));
    cases.put("older or unknown format (OTAFLXS0)", kept -> {
      byte[] b = kept.clone();
      b[7] = '0';
      return b;
    });
    for (Map.Entry<String, UnaryOperator<byte[]>> c : cases.entrySet()) {
      InMemorySlotStore store = runningOldWithKeptIndex();
      store.saveChunkIndex(SlotId.B, c.getValue().apply(store.loadChunkIndex(SlotId.B).block(TIMEOUT)))
          .block(TIMEOUT);
      Manifest manifest = fetch(site, store);
      Run run = new Run(site, store, manifest, ImageTransfer.of(Servers.trustingRoot(), manifest, store, true));

      List<UpdateEvent> events = events(run);

      assertThat(store.contents(SlotId.A)).as(c.getKey()).isEqualTo(NEW);
      assertThat(warnings(events)).as(c.getKey()).singleElement().asString()
          .contains("The running slot b was scanned for the delta").contains(c.getKey());
      assertThat(store.runningBytesRead()).as(c.getKey()).isEqualTo(OLD.length + run.transfer().reused());
    }
  }

  @Test
  void aFlippedBitInAChunkOfASlotWhoseIndexWasKeptIsFetchedInsteadAndNeverReachesTheNewSlot() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    InMemorySlotStore clean = runningOldWithKeptIndex();
    Manifest manifest = fetch(site, clean);
    Run cleanRun = new Run(site, clean, manifest, ImageTransfer.of(Servers.trustingRoot(), manifest, clean, true));
    events(cleanRun);
    InMemorySlotStore store = runningOldWithKeptIndex();
    store.damageRunning(100_000, (byte) (OLD[100_000] ^ 0x10));
    Run damaged = new Run(site, store, manifest, ImageTransfer.of(Servers.trustingRoot(), manifest, store, true));

    assertThat(warnings(events(damaged))).isEmpty();

    assertThat(store.contents(SlotId.A)).isEqualTo(NEW);
    assertThat(damaged.transfer().downloaded()).isGreaterThan(cleanRun.transfer().downloaded());
    assertThat(damaged.transfer().reused()).isLessThan(cleanRun.transfer().reused());
    assertThat(store.runningBytesRead()).isLessThan(OLD.length);
  }

  @Test
  void aChunkCorruptedOnTheWireFailsAsACorruptImageAndNothingIsActivated() throws IOException {
    Site site = publish(NEW, Compression.ZSTD, true);
    // the appended tail is new: its last chunk is fetched
    site.server().route("/fw/fw.img.chunks.zst", StaticFile.of(site.chunks()).flippingByteAt(site.chunks().length - 20));

    Run.of(site).fails(Detail.CORRUPT_IMAGE);
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
    Run run = Run.of(publish(NEW, Compression.ZSTD, true, StaticFile::ignoringRange, b -> b)).deltaOnly();

    assertThat(run.fails(Detail.RANGE_NOT_SUPPORTED)).hasMessageContaining("Only a delta was allowed");
    assertThat(run.store().contents(SlotId.A)).isEmpty();
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

    Run.of(site).fails(Detail.DIGEST_MISMATCH);
    assertThat(site.server().requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw/fw.img.zst",
        "/fw/fw.img.chunks.zst");
  }

  @Test
  void anAbortInTheMiddleOfADeltaEndsAbortedWithTheStoreAsItWas() throws IOException {
    Run run = Run.of(publish(NEW, Compression.ZSTD, true));
    Sinks.Empty<Void> abort = Sinks.empty();

    StepVerifier.create(updater(run.transfer(), run.store(), 0).progressEvery(Duration.ZERO)
            .update(run.manifest().request(), abort.asMono())
            .doOnNext(e -> {
              if (e instanceof UpdateEvent.Progress) {
                abort.tryEmitEmpty();
              }
            }))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertThat(detail(e)).isEqualTo(Detail.ABORTED))
        .verify(TIMEOUT);
    assertNothingActivated(run.store());
    assertThat(run.store().status().block(TIMEOUT).slot(SlotId.A).state().label()).isNotEqualTo("trial");
  }

  @Test
  void aHalfDoneDeltaResumesWhereTheSlotLeftOffAndDoesNotFetchTwice() throws IOException {
    // the first range request (after the probe) breaks after 5 KiB
    Run first = Run.of(publish(NEW, Compression.ZSTD, true, f -> f.cuttingAnswer(1, 5_000), b -> b));
    assertThat(first.fails(Detail.CONNECTION_LOST).reason()).isEqualTo(OtaException.Reason.NETWORK);

    Run second = new Run(first.site(), first.store(), first.manifest(),
        ImageTransfer.of(Servers.trustingRoot(), first.manifest(), first.store(), true));
    List<UpdateEvent> events = updater(second.transfer(), second.store(), 0).update(second.manifest().request())
        .collectList().block(TIMEOUT);

    UpdateEvent.Resolved resolved = (UpdateEvent.Resolved) events.stream()
        .filter(UpdateEvent.Resolved.class::isInstance).findFirst().orElseThrow();
    // the last sync (every 64 KiB) before the break, just below the first fetched chunk at 1 MiB
    assertThat(resolved.resumedFrom()).isGreaterThan((1 << 20) - 128 * 1024);
    assertThat(second.store().contents(SlotId.A)).isEqualTo(NEW);
    assertThat(second.transfer().reused()).isLessThan(NEW.length - resolved.resumedFrom() + 1);
    assertThat(events).last().isEqualTo(new UpdateEvent.Activated(SlotId.A));
  }
}
