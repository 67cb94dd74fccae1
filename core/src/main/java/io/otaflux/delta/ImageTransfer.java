package io.otaflux.delta;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.internal.Download;
import io.otaflux.internal.Origin;
import io.otaflux.internal.Sizes;
import io.otaflux.manifest.Manifest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotReader;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The device's side of compressed and delta updates: a {@link FirmwareSource} for one update that
 * turns the files a manifest names into the image's bytes, for the unchanged update pipeline
 * (hash, slot writer, verify, activate) to write.
 * <ul>
 *   <li>With an index ({@code --delta}) it finds the chunks the running slot holds, copies them
 *       (each chunk's digest checked as it is read, so a flipped bit never reaches the new slot: such
 *       a chunk is fetched instead), and fetches the others from the transfer file with Range
 *       requests at once (adjacent chunks in one
 *       range, all ranges in one {@link FirmwareSource#readRanges} stream, which the source may send
 *       several ranges per request and keep in flight; each chunk's digest checked as it arrives).
 *       A resumed update starts at the durable offset the slot writer kept, so nothing the target
 *       slot holds is fetched twice.</li>
 *   <li>Where the running slot holds which chunk comes from the chunk index kept with the slot
 *       ({@link SlotStore#loadChunkIndex}), so no byte of the slot is read before the first fetch; it is
 *       used only when its checksum, format and image digest (the slot's recorded SHA-256) check. Else
 *       the slot is scanned (read, cut and hashed) and the update says why in the {@link
 *       UpdateEvent.Resolved#warnings()}. The image written keeps its index with its slot: the
 *       published index after a delta, or, for a full download of a manifest that offers deltas, the
 *       index computed as the bytes stream past ({@link Chunking#standard()}).</li>
 *   <li>When a delta cannot be used (no index on the server, a server without Range, a running slot
 *       that cannot be read) it says so with an {@link UpdateEvent.DeltaFallback} in
 *       {@link #notices()} and downloads the whole compressed image instead, or fails with that
 *       reason when {@link #deltaOnly} was asked.</li>
 *   <li>With a compressed transfer file only, it streams and decodes it; the transfer file's size
 *       and SHA-256 are checked too, so a truncated or swapped file is caught.</li>
 * </ul>
 * {@link #downloaded()} and {@link #reused()} count the bytes received over the network and the
 * bytes taken from the device.
 *
 * <p>One instance per update: it caches the plan of the delta across retries.
 *
 * <p><b>Resume:</b> a delta resumes at the durable offset exactly (chunks are independent); a
 * whole compressed stream restarts from its first byte, and the slot is rewritten from 0, since
 * the decoders' state cannot be saved. Publish with {@code --delta} where resume matters.
 */
public final class ImageTransfer implements FirmwareSource {

  private static final Logger log = LoggerFactory.getLogger(ImageTransfer.class);
  /** Missing chunks closer than this (compressed bytes) are fetched in one request with what lies between. */
  static final long COALESCE_GAP = 8 * 1024;
  private static final int MAX_INDEX = 64 << 20;
  private static final int READ_BUFFER = 1 << 20;
  /**
   * Fetched buffers (up to 64 KiB each) held while held chunks are copied from the running slot, so
   * the link keeps receiving meanwhile: at most 2 MiB.
   */
  private static final int FETCH_BUFFERS = 32;

  private final FirmwareSource network;
  private final Manifest.@Nullable Transfer transfer;
  private final Manifest.@Nullable Index index;
  private final @Nullable SlotStore store;
  private final boolean deltaOnly;
  /** Whether a full download computes the image's chunk index to keep with its slot (the publisher offers deltas). */
  private final boolean keepIndex;
  private final Sinks.Many<UpdateEvent> notices = Sinks.many().replay().all();
  private final AtomicLong downloaded = new AtomicLong();
  private final AtomicLong reused = new AtomicLong();
  private @Nullable Mono<Plan> plan;
  private volatile boolean fellBack;

  private ImageTransfer(FirmwareSource network, Manifest.@Nullable Transfer transfer, Manifest.@Nullable Index index,
      @Nullable SlotStore store, boolean deltaOnly, boolean keepIndex) {
    this.network = network;
    this.transfer = transfer;
    this.index = index;
    this.store = store;
    this.deltaOnly = deltaOnly;
    this.keepIndex = keepIndex;
  }

  /**
   * A plain download through {@code network}, counting the bytes received.
   *
   * @param network the source
   * @return the transfer
   */
  public static ImageTransfer of(FirmwareSource network) {
    return new ImageTransfer(Objects.requireNonNull(network, "network"), null, null, null, false, false);
  }

  /**
   * The image of a verified manifest: its delta when it has an index and {@code delta} is true,
   * else its compressed transfer file, else the image itself.
   *
   * @param network where the files come from
   * @param manifest the verified manifest (its URLs resolved)
   * @param store the slot store, whose running slot a delta reuses
   * @param delta whether to use a delta when the manifest offers one ({@code --no-delta} is false)
   * @return the transfer
   */
  public static ImageTransfer of(FirmwareSource network, Manifest manifest, SlotStore store, boolean delta) {
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(manifest, "manifest");
    Objects.requireNonNull(store, "store");
    Manifest.Transfer t = manifest.transfer().orElse(null);
    Manifest.Index i = delta ? manifest.index().orElse(null) : null;
    if (t != null && t.uri() == null || i != null && (i.uri() == null || i.chunksUri() == null)) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The manifest's file URLs are relative and its own URL is unknown;"
          + " verify it with its URL.");
    }
    return new ImageTransfer(network, t, i, store, false, manifest.index().isPresent());
  }

  /**
   * This transfer, failing with the reason instead of falling back to the whole image when the delta
   * cannot be used.
   *
   * @return a new transfer
   */
  public ImageTransfer deltaOnly() {
    if (index == null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "Only a delta was allowed, but the manifest offers none; publish"
          + " with `ota manifest create --delta`.");
    }
    return new ImageTransfer(network, transfer, index, store, true, keepIndex);
  }

  /**
   * What the transfer has to say that is not a failure: {@link UpdateEvent.DeltaFallback}. Replays
   * to late subscribers; completes when {@link #complete()} is called.
   *
   * @return the notices
   */
  public Flux<UpdateEvent> notices() {
    return notices.asFlux();
  }

  /** Ends {@link #notices()}. */
  public void complete() {
    notices.tryEmitComplete();
  }

  /**
   * Bytes received over the network so far (index, chunks, compressed or raw image bodies).
   *
   * @return bytes
   */
  public long downloaded() {
    return downloaded.get();
  }

  /**
   * Bytes of the image taken from the device (the running slot) so far.
   *
   * @return bytes
   */
  public long reused() {
    return reused.get();
  }

  /**
   * Whether the delta was used (false before the first open, after a fallback, or without one).
   *
   * @return true when chunks are taken from the running slot
   */
  public boolean isDelta() {
    return index != null && !fellBack && plan != null;
  }

  @Override
  public Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(from, "from");
    if (index != null && !fellBack) {
      return plan(request).flatMap(p -> p.usable ? Mono.just(delta(p, from.offset())) : full(request, from));
    }
    return full(request, from);
  }

  @Override
  public Mono<ImageDownload> openRange(UpdateRequest request, long from, long length, @Nullable String validator) {
    return network.openRange(request, from, length, validator).map(this::counted);
  }

  @Override
  public Flux<ByteBuffer> readRanges(UpdateRequest request, List<Range> ranges, @Nullable String validator) {
    return network.readRanges(request, ranges, validator).doOnNext(b -> downloaded.addAndGet(b.remaining()));
  }

  private Mono<ImageDownload> full(UpdateRequest request, ResumeFrom from) {
    Manifest.Transfer t = transfer;
    if (t == null) {
      return network.open(request, from).map(this::counted);
    }
    UpdateRequest file = sibling(request, Objects.requireNonNull(t.uri()));
    long limit = request.size().orElse(Long.MAX_VALUE);
    return network.open(file, ResumeFrom.start()).map(d -> new Decoded(d, t, limit, keepIndex ? request : null));
  }

  // ---- delta ----------------------------------------------------------------------------------

  private synchronized Mono<Plan> plan(UpdateRequest request) {
    Mono<Plan> p = plan;
    if (p == null) {
      p = Mono.defer(() -> makePlan(request)).cache(ok -> Duration.ofMillis(Long.MAX_VALUE), e -> Duration.ZERO, () -> Duration.ZERO);
      plan = p;
    }
    return p;
  }

  private Mono<Plan> makePlan(UpdateRequest request) {
    Manifest.Index i = Objects.requireNonNull(index);
    Manifest.Transfer t = Objects.requireNonNull(transfer);
    UpdateRequest indexRequest = sibling(request, Objects.requireNonNull(i.uri()));
    UpdateRequest chunksRequest = sibling(request, Objects.requireNonNull(i.chunksUri()));
    return fetchIndex(indexRequest, i)
        .flatMap(idx -> {
          if (idx.imageSize() != request.size().orElse(idx.imageSize())
              || !request.sha256().map(idx.imageSha256()::equals).orElse(true)
              || idx.compression() != t.compression()) {
            return Mono.error(OtaException.of(Detail.DIGEST_MISMATCH, "The delta index describes another image than"
                + " its manifest; nothing was written. Ask the publisher to publish again, or update with --no-delta."));
          }
          return probe(chunksRequest, i, idx.transferSize()).flatMap(validator -> locate(idx).flatMap(found ->
              worthIt(idx, found.where(), t)
                  ? Mono.just(new Plan(idx, found, chunksRequest, validator.equals("-") ? null : validator))
                  : Mono.empty()));
        })
        .defaultIfEmpty(Plan.unusable());
  }

  /** The index, checked against the manifest; empty (after a notice) when the server has none. */
  private Mono<ChunkIndex> fetchIndex(UpdateRequest request, Manifest.Index i) {
    if (i.size() > MAX_INDEX) {
      return Mono.error(OtaException.of(Detail.CORRUPT_IMAGE, "The delta index is " + Sizes.human(i.size())
          + ", more than the " + Sizes.human(MAX_INDEX) + " allowed; update with --no-delta."));
    }
    return network.open(request, ResumeFrom.start())
        .flatMap(d -> d.body().doOnNext(b -> downloaded.addAndGet(b.remaining()))
            .collect(ByteArrayOutputStream::new, (out, b) -> {
              if (out.size() + (long) b.remaining() > i.size()) {
                throw OtaException.of(Detail.DIGEST_MISMATCH, "The delta index on the server is larger than its"
                    + " manifest says; nothing was written. Ask the publisher, or update with --no-delta.");
              }
              byte[] bytes = new byte[b.remaining()];
              b.get(bytes);
              out.write(bytes, 0, bytes.length);
            }))
        .map(out -> {
          byte[] bytes = out.toByteArray();
          if (bytes.length != i.size() || !Sha256.digest(bytes).equals(i.sha256())) {
            throw OtaException.of(Detail.DIGEST_MISMATCH, "The delta index on the server does not match its manifest"
                + " (size or SHA-256); nothing was written. Ask the publisher to publish again, or update with --no-delta.");
          }
          return ChunkIndex.parse(bytes);
        })
        // 404, 403, 410...: the server has no index for us; a 5xx or a lost connection is retried instead
        .onErrorResume(e -> e instanceof OtaException && ((OtaException) e).reason() == OtaException.Reason.SERVER
            && !((OtaException) e).isTransient() && ((OtaException) e).detail() != Detail.DIGEST_MISMATCH,
            e -> fallBack(Detail.HTTP_STATUS, "the server has no delta index (" + e.getMessage() + ")")
                .then(Mono.empty()));
  }

  /**
   * Whether the delta downloads less than the whole compressed image: chunks compressed apart are
   * larger, so an update that changes most of the image is cheaper as one stream. Declining is
   * reported like a fallback (never silent); with {@link #deltaOnly()} the delta is used anyway.
   */
  private boolean worthIt(ChunkIndex idx, long[] where, Manifest.Transfer t) {
    long fetched = 0;
    for (Segment s : segments(idx, where, 0)) {
      if (s.fetch) {
        fetched += idx.compressedOffset(s.last + 1) - idx.compressedOffset(s.first);
      }
    }
    if (fetched < t.size() || deltaOnly) {
      return true;
    }
    fellBack = true;
    String reason = "The delta would download " + Sizes.human(fetched) + ", not less than the whole compressed image ("
        + Sizes.human(t.size()) + "); downloading the whole image instead.";
    log.info("{}", reason);
    notices.tryEmitNext(new UpdateEvent.DeltaFallback(reason, null));
    return false;
  }

  /** Asks for one byte of the chunks file: empty when Range is not served (after a notice), else its validator or "-". */
  private Mono<String> probe(UpdateRequest chunksRequest, Manifest.Index i, long size) {
    return network.openRange(chunksRequest, 0, 1, null)
        .flatMap(d -> {
          OptionalLong total = d.totalSize();
          String validator = d.validator();
          if (total.isPresent() && total.getAsLong() != size) {
            d.discard();
            return Mono.error(OtaException.of(Detail.CORRUPT_IMAGE, "The server's " + i.chunksUrl() + " has "
                + total.getAsLong() + " bytes, but its index says " + size + "; nothing was written. Ask the"
                + " publisher to publish again."));
          }
          return d.body().doOnNext(b -> downloaded.addAndGet(b.remaining())).then(Mono.just(
              validator == null ? "-" : validator));
        })
        .onErrorResume(e -> e instanceof OtaException && ((OtaException) e).detail() == Detail.RANGE_NOT_SUPPORTED,
            e -> fallBack(Detail.RANGE_NOT_SUPPORTED, "the server does not answer Range requests ("
                + e.getMessage() + ")").then(Mono.empty()));
  }

  private Mono<Void> fallBack(Detail detail, String why) {
    String reason = "The delta cannot be used: " + why + ".";
    if (deltaOnly) {
      return Mono.error(OtaException.of(detail == Detail.HTTP_STATUS ? Detail.BAD_RESPONSE : detail,
          reason + " Only a delta was allowed; nothing was written."));
    }
    fellBack = true;
    log.info("{} Downloading the whole image instead.", reason);
    notices.tryEmitNext(new UpdateEvent.DeltaFallback(reason + " Downloading the whole image instead.", detail));
    return Mono.empty();
  }

  /**
   * For each chunk of the index, where the running slot holds it (or -1), and the slot; empty (after
   * a notice) when unreadable. Planned from the chunk index kept with the slot when it checks (no
   * byte of the slot read); else the slot is scanned, and the update says why in a warning.
   */
  private Mono<Located> locate(ChunkIndex idx) {
    SlotStore slots = Objects.requireNonNull(store);
    return Mono.usingWhen(slots.openRunning(), reader -> slots.loadChunkIndex(reader.slot())
            .onErrorResume(e -> {
              // reported as a damaged record in the update's warning, and here with its cause
              log.warn("Loading the chunk index kept with slot {} failed: {}", reader.slot().label(), e.toString());
              return Mono.just(new byte[0]);
            })
            .map(Optional::of)
            .defaultIfEmpty(Optional.empty())
            .publishOn(Workers.INSTANCE)
            .map(kept -> {
              long t0 = System.nanoTime();
              SlotIndex.Checked checked = SlotIndex.check(kept.orElse(null), reader.sha256(), idx.chunking());
              ChunkIndex held = checked.index();
              if (held != null) {
                long[] where = match(idx, held);
                log.info("Delta planned from the chunk index kept with slot {} in {} ms: the slot was not scanned",
                    reader.slot().label(), (System.nanoTime() - t0) / 1_000_000);
                return new Located(where, reader.slot(), null);
              }
              long[] where;
              try {
                where = match(idx, reader);
              } catch (IOException e) {
                throw new ScanFailure(e.getMessage() == null ? e.toString() : e.getMessage());
              }
              String note = "The running slot " + reader.slot().label() + " was scanned for the delta ("
                  + Sizes.human(reader.size()) + " read in " + (System.nanoTime() - t0) / 1_000_000 + " ms): "
                  + checked.why() + ".";
              log.info("{}", note);
              return new Located(where, reader.slot(), note);
            }), reader -> Mono.fromRunnable(reader::close))
        .onErrorResume(e -> !(e instanceof OtaException) || ((OtaException) e).detail() == Detail.NOT_ALLOWED_NOW,
            e -> fallBack(Detail.NOT_ALLOWED_NOW, "the running slot cannot be read (" + e.getMessage() + ")")
                .then(Mono.empty()));
  }

  /** Where the running slot holds the chunks, the slot, and why it was scanned (null when it was not). */
  private record Located(long[] where, SlotId running, @Nullable String scanned) {
  }

  private static final class ScanFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ScanFailure(String message) {
      super(message);
    }
  }

  /** Cuts the running slot with the index's chunking and finds the index's chunks in it. */
  static long[] match(ChunkIndex idx, SlotReader reader) throws IOException {
    Lookup lookup = new Lookup(idx);
    MessageDigest sha = Sha256Digests.create();
    ChunkStream chunks = new ChunkStream(new SlotInput(reader), idx.chunking());
    long position = 0;
    for (int len = chunks.next(); len > 0; len = chunks.next()) {
      lookup.found(position, len, Sha256Digests.truncated(sha, chunks.bytes(), chunks.offset(), len));
      position += len;
    }
    return lookup.where;
  }

  /** Finds the index's chunks among those of the running slot's kept index: no byte of the slot is read. */
  static long[] match(ChunkIndex idx, ChunkIndex held) {
    Lookup lookup = new Lookup(idx);
    byte[] digest = new byte[ChunkIndex.DIGEST];
    for (int k = 0; k < held.chunks(); k++) {
      held.copyDigest(k, digest);
      lookup.found(held.offset(k), held.size(k), digest);
    }
    return lookup.where;
  }

  /** For each chunk of an index, where the running slot holds it (or -1), as the slot's chunks are found. */
  private static final class Lookup {
    private final ChunkIndex idx;
    private final long[] where;
    private final long[] sortedKeys;
    private final int[] sortedChunks;

    Lookup(ChunkIndex idx) {
      this.idx = idx;
      int n = idx.chunks();
      where = new long[n];
      Arrays.fill(where, -1);
      long[] keys = new long[n];
      Integer[] order = new Integer[n];
      for (int j = 0; j < n; j++) {
        keys[j] = idx.digestKey(j);
        order[j] = j;
      }
      Arrays.sort(order, (a, b) -> Long.compare(keys[a], keys[b]));
      sortedKeys = new long[n];
      sortedChunks = new int[n];
      for (int j = 0; j < n; j++) {
        sortedKeys[j] = keys[order[j]];
        sortedChunks[j] = order[j];
      }
    }

    /** The slot holds a chunk of {@code len} bytes with {@code digest} at {@code position}. */
    void found(long position, int len, byte[] digest) {
      long key = ChunkIndex.key(digest);
      int at = Arrays.binarySearch(sortedKeys, key);
      if (at < 0) {
        return;
      }
      while (at > 0 && sortedKeys[at - 1] == key) {
        at--;
      }
      for (; at < sortedKeys.length && sortedKeys[at] == key; at++) {
        int j = sortedChunks[at];
        if (where[j] < 0 && idx.size(j) == len && idx.digestEquals(j, digest)) {
          where[j] = position;
        }
      }
    }
  }

  /** The running slot's image as a stream. */
  private static final class SlotInput extends ChunkedInput {
    private final SlotReader reader;
    private final ByteBuffer buffer = ByteBuffer.allocate(READ_BUFFER).flip();
    private long position;

    SlotInput(SlotReader reader) {
      this.reader = reader;
    }

    @Override
    int readSome(byte[] b, int off, int len) throws IOException {
      if (!buffer.hasRemaining()) {
        long left = reader.size() - position;
        if (left <= 0) {
          return -1;
        }
        buffer.clear().limit((int) Math.min(buffer.capacity(), left));
        int n = reader.read(buffer, position);
        buffer.flip();
        if (n <= 0) {
          throw new IOException("the running slot ends at byte " + position + ", before the " + reader.size()
              + " bytes its image has");
        }
        position += n;
      }
      int n = Math.min(len, buffer.remaining());
      buffer.get(b, off, n);
      return n;
    }
  }

  /** What the delta fetches and copies. */
  private static final class Plan {
    final boolean usable;
    final @Nullable ChunkIndex index;
    final long @Nullable [] where;
    final @Nullable Located found;
    final @Nullable UpdateRequest transfer;
    final @Nullable String validator;

    Plan(ChunkIndex index, Located found, UpdateRequest transfer, @Nullable String validator) {
      this.usable = true;
      this.index = index;
      this.where = found.where();
      this.found = found;
      this.transfer = transfer;
      this.validator = validator;
    }

    private Plan() {
      this.usable = false;
      this.index = null;
      this.where = null;
      this.found = null;
      this.transfer = null;
      this.validator = null;
    }

    static Plan unusable() {
      return new Plan();
    }
  }

  /** A run of chunks [first, last] copied from the running slot or fetched together. */
  record Segment(boolean fetch, int first, int last) {
  }

  private ImageDownload delta(Plan plan, long from) {
    ChunkIndex idx = Objects.requireNonNull(plan.index);
    long[] where = Objects.requireNonNull(plan.where);
    List<Segment> segments = segments(idx, where, from);
    int firstChunk = idx.chunks() == 0 ? 0 : idx.chunkAt(Math.min(from, idx.imageSize() - 1));
    long skip = idx.chunks() == 0 ? 0 : from - idx.offset(firstChunk);
    if (from == 0) {
      long fetched = segments.stream().filter(Segment::fetch)
          .mapToLong(s -> idx.compressedOffset(s.last + 1) - idx.compressedOffset(s.first)).sum();
      log.info("Delta: {} of {} chunks in the running slot; fetching {} in {} ranges", Arrays.stream(where)
          .filter(w -> w >= 0).count(), idx.chunks(), Sizes.human(fetched), segments.stream().filter(Segment::fetch).count());
    }
    Located found = Objects.requireNonNull(plan.found);
    // the new image's index is the one the target slot keeps once the bytes are in
    Flux<ByteBuffer> body = Flux.defer(() -> assemble(plan, idx, where, segments))
        .concatWith(keep(found.running().other(), idx));
    Flux<ByteBuffer> trimmed = skip == 0 ? body : trim(body, skip);
    String scanned = found.scanned();
    return new Download(Objects.requireNonNull(plan.transfer).uri(), from, OptionalLong.of(idx.imageSize()), null,
        scanned == null ? List.of() : List.of(scanned), trimmed, () -> { });
  }

  /**
   * The image's chunks from the first segment on, in order: the fetched ones come from one stream of
   * ranges that the source keeps in flight, the held ones are copied from the running slot in between,
   * so the link does not wait for the slot (the fetched bytes are buffered while chunks are copied).
   */
  private Flux<ByteBuffer> assemble(Plan plan, ChunkIndex idx, long[] where, List<Segment> segments) {
    if (segments.isEmpty()) {
      return Flux.empty();
    }
    List<FirmwareSource.Range> ranges = new ArrayList<>();
    int count = 0;
    for (Segment s : segments) {
      if (s.fetch) {
        long start = idx.compressedOffset(s.first);
        ranges.add(new FirmwareSource.Range(start, idx.compressedOffset(s.last + 1) - start));
        count += s.last - s.first + 1;
      }
    }
    int[] fetchedChunks = new int[count];
    int at = 0;
    for (Segment s : segments) {
      for (int j = s.first; s.fetch && j <= s.last; j++) {
        fetchedChunks[at++] = j;
      }
    }
    int end = segments.get(segments.size() - 1).last + 1;
    UpdateRequest file = Objects.requireNonNull(plan.transfer);
    Framer framer = new Framer(idx, fetchedChunks);
    Refetch refetch = j -> fetchOne(plan, idx, j);
    Flux<Frame> fetched = ranges.isEmpty() ? Flux.empty() : network.readRanges(file, ranges, plan.validator)
        .doOnNext(b -> downloaded.addAndGet(b.remaining()))
        .publishOn(Workers.INSTANCE, FETCH_BUFFERS)
        .concatMapIterable(framer::accept)
        .concatWith(Mono.defer(() -> framer.missing() > 0 ? Mono.error(OtaException.transientFailure(
            Detail.CONNECTION_LOST, "The answers from " + file.uri() + " ended " + framer.missing()
                + " bytes before the chunks asked for.", null)) : Mono.empty()));
    // the held chunks before the first fetched one go out at once, while the first answers arrive
    int start = segments.get(0).first;
    int firstFetched = count > 0 ? fetchedChunks[0] : end;
    Flux<ByteBuffer> before = start < firstFetched ? copy(idx, where, refetch, start, firstFetched - 1) : Flux.empty();
    int[] next = {firstFetched};
    Flux<ByteBuffer> after = fetched
        .concatMap(f -> {
          int held = next[0];
          next[0] = f.chunk + 1;
          return held < f.chunk ? copy(idx, where, refetch, held, f.chunk - 1).concatWith(Mono.just(f.data))
              : Mono.just(f.data);
        })
        .concatWith(Flux.defer(() -> next[0] < end ? copy(idx, where, refetch, next[0], end - 1) : Flux.empty()));
    // both subscribed at once, emitted in order; a failed fetch still lets the chunks before it be written
    return Flux.mergeSequentialDelayError(FETCH_BUFFERS, before, after);
  }

  private static Flux<ByteBuffer> trim(Flux<ByteBuffer> body, long skip) {
    long[] left = {skip};
    return body.handle((b, sink) -> {
      if (left[0] >= b.remaining()) {
        left[0] -= b.remaining();
        return;
      }
      if (left[0] > 0) {
        b.position(b.position() + (int) left[0]);
        left[0] = 0;
      }
      sink.next(b);
    });
  }

  static List<Segment> segments(ChunkIndex idx, long[] where, long from) {
    List<Segment> segments = new ArrayList<>();
    int n = idx.chunks();
    if (n == 0 || from >= idx.imageSize()) {
      return segments;
    }
    int start = idx.chunkAt(from);
    boolean[] fetch = new boolean[n];
    for (int j = start; j < n; j++) {
      fetch[j] = where[j] < 0;
    }
    // a short run of held chunks between two fetched ones costs less fetched than a second request
    int j = start;
    while (j < n) {
      int k = j;
      while (k + 1 < n && fetch[k + 1] == fetch[j]) {
        k++;
      }
      if (!fetch[j] && j > start && k + 1 < n
          && idx.compressedOffset(k + 1) - idx.compressedOffset(j) <= COALESCE_GAP) {
        for (int m = j; m <= k; m++) {
          fetch[m] = true;
        }
      }
      j = k + 1;
    }
    j = start;
    while (j < n) {
      int k = j;
      while (k + 1 < n && fetch[k + 1] == fetch[j]) {
        k++;
      }
      segments.add(new Segment(fetch[j], j, k));
      j = k + 1;
    }
    return segments;
  }

  /** A fetched chunk, decoded and verified. */
  private record Frame(int chunk, ByteBuffer data) {
  }

  /** Splits the fetched ranges' bytes into the chunks' frames, decodes and verifies each. */
  private static final class Framer {
    private final ChunkIndex idx;
    private final int[] chunks;
    private int next;
    private byte @Nullable [] frame;
    private int filled;

    Framer(ChunkIndex idx, int[] chunks) {
      this.idx = idx;
      this.chunks = chunks;
      this.frame = chunks.length == 0 ? null : new byte[idx.compressedSize(chunks[0])];
    }

    List<Frame> accept(ByteBuffer b) {
      List<Frame> out = new ArrayList<>(2);
      while (b.hasRemaining()) {
        byte[] f = frame;
        if (f == null) {
          throw OtaException.of(Detail.MALFORMED_RESPONSE, "The server sent more than the bytes of the ranges asked for.");
        }
        int n = Math.min(b.remaining(), f.length - filled);
        b.get(f, filled, n);
        filled += n;
        if (filled == f.length) {
          int chunk = chunks[next++];
          out.add(new Frame(chunk, ByteBuffer.wrap(decode(idx, chunk, f))));
          filled = 0;
          frame = next < chunks.length ? new byte[idx.compressedSize(chunks[next])] : null;
        }
      }
      return out;
    }

    /** Bytes still expected. */
    long missing() {
      long left = frame == null ? 0 : frame.length - filled;
      for (int k = next + 1; k < chunks.length; k++) {
        left += idx.compressedSize(chunks[k]);
      }
      return left;
    }
  }

  static byte[] decode(ChunkIndex idx, int chunk, byte[] frame) {
    byte[] data;
    try {
      data = ChunkCodec.decompress(idx.compression(), frame, idx.size(chunk));
    } catch (IOException | RuntimeException e) {
      throw OtaException.of(Detail.CORRUPT_IMAGE, "Chunk " + chunk + " (image bytes " + idx.offset(chunk) + "-"
          + (idx.offset(chunk) + idx.size(chunk) - 1) + ") from the server is damaged (" + e.getMessage()
          + "); nothing was activated. Run the update again.", e);
    } catch (LinkageError e) {
      throw Decoding.missingDecoder(idx.compression(), e);
    }
    if (!idx.digestEquals(chunk, Sha256Digests.truncated(data, 0, data.length))) {
      throw OtaException.of(Detail.CORRUPT_IMAGE, "Chunk " + chunk + " (image bytes " + idx.offset(chunk) + "-"
          + (idx.offset(chunk) + idx.size(chunk) - 1) + ") from the server does not match its digest in the index;"
          + " nothing was activated. Run the update again; if it fails the same way, ask the publisher.");
    }
    return data;
  }

  /** Fetches one chunk the running slot was to give (it no longer matches its digest). */
  private interface Refetch {
    Mono<ByteBuffer> chunk(int chunk);
  }

  private Mono<ByteBuffer> fetchOne(Plan plan, ChunkIndex idx, int chunk) {
    long start = idx.compressedOffset(chunk);
    Framer framer = new Framer(idx, new int[] {chunk});
    return network.readRanges(Objects.requireNonNull(plan.transfer),
            List.of(new FirmwareSource.Range(start, idx.compressedSize(chunk))), plan.validator)
        .doOnNext(b -> downloaded.addAndGet(b.remaining()))
        .publishOn(Workers.INSTANCE)
        .concatMapIterable(framer::accept)
        .next()
        .map(Frame::data)
        .switchIfEmpty(Mono.error(() -> OtaException.transientFailure(Detail.CONNECTION_LOST, "The answer from "
            + Objects.requireNonNull(plan.transfer).uri() + " ended before chunk " + chunk + ".", null)));
  }

  /**
   * Chunks {@code first} to {@code last}, read from the running slot and verified; one that no
   * longer matches its digest (a flipped bit, a slot changed under its kept index) is fetched instead.
   */
  private Flux<ByteBuffer> copy(ChunkIndex idx, long[] where, Refetch refetch, int first, int last) {
    SlotStore slots = Objects.requireNonNull(store);
    return Flux.usingWhen(slots.openRunning(), reader -> Flux.range(first, last - first + 1)
        .concatMap(j -> {
          byte[] data = new byte[idx.size(j)];
          ByteBuffer dst = ByteBuffer.wrap(data);
          try {
            while (dst.hasRemaining()) {
              if (reader.read(dst, where[j] + dst.position()) <= 0) {
                throw new IOException("the running slot ended early");
              }
            }
          } catch (IOException e) {
            throw OtaException.of(Detail.IO_ERROR, "Reading chunk " + j + " from the running slot failed: "
                + e.getMessage() + "; nothing was activated. Run the update with --no-delta.", e);
          }
          if (!idx.digestEquals(j, Sha256Digests.truncated(data, 0, data.length))) {
            log.warn("Chunk {} (image bytes {}-{}) read from the running slot {} at byte {} no longer matches its"
                + " digest (the slot changed, or its storage is failing); it is fetched instead", j, idx.offset(j),
                idx.offset(j) + idx.size(j) - 1, reader.slot().label(), where[j]);
            return refetch.chunk(j);
          }
          reused.addAndGet(data.length);
          return Mono.just(ByteBuffer.wrap(data));
        }), reader -> Mono.fromRunnable(reader::close))
        .subscribeOn(Workers.INSTANCE);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * Keeps {@code idx}, the index of the image being written to {@code target}, with that slot: the
   * next delta update plans from it instead of scanning the slot. Bound to the image's SHA-256, so it
   * is only used once the slot holds that image; a failure to keep it is logged, never fatal.
   */
  private Mono<ByteBuffer> keep(SlotId target, ChunkIndex idx) {
    SlotStore slots = Objects.requireNonNull(store);
    return Mono.defer(() -> slots.saveChunkIndex(target, SlotIndex.seal(idx)))
        .doOnSuccess(v -> log.debug("The chunk index of the image written to slot {} ({} chunks) is kept with it",
            target.label(), idx.chunks()))
        .onErrorResume(e -> {
          log.warn("Keeping the chunk index with slot {} failed ({}); the next delta update will scan the slot",
              target.label(), e.toString());
          return Mono.empty();
        })
        .then(Mono.empty());
  }

  private ImageDownload counted(ImageDownload d) {
    return Download.withBody(d, d.body().doOnNext(b -> downloaded.addAndGet(b.remaining())));
  }

  /** A request for a file next to the image, with the image's credentials when it has the same origin. */
  private static UpdateRequest sibling(UpdateRequest image, URI file) {
    return Origin.carryCredentials(image, UpdateRequest.of(file));
  }

  /** The compressed transfer file, decoded, with its own size and digest checked. */
  private final class Decoded implements ImageDownload {
    private final ImageDownload raw;
    private final Manifest.Transfer transfer;
    private final long limit;
    private final @Nullable UpdateRequest indexed;

    Decoded(ImageDownload raw, Manifest.Transfer transfer, long limit, @Nullable UpdateRequest indexed) {
      this.raw = raw;
      this.transfer = transfer;
      this.limit = limit;
      this.indexed = indexed;
    }

    @Override
    public URI effectiveUri() {
      return raw.effectiveUri();
    }

    @Override
    public long offset() {
      return 0;
    }

    @Override
    public OptionalLong totalSize() {
      return limit == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(limit);
    }

    @Override
    public @Nullable String validator() {
      return null;
    }

    @Override
    public List<String> warnings() {
      return raw.warnings();
    }

    @Override
    public Flux<ByteBuffer> body() {
      OptionalLong offered = raw.totalSize();
      if (offered.isPresent() && offered.getAsLong() != transfer.size()) {
        raw.discard();
        return Flux.error(OtaException.of(Detail.CORRUPT_IMAGE, "The server's " + transfer.url() + " has "
            + offered.getAsLong() + " bytes but its manifest says " + transfer.size() + " (truncated or another file);"
            + " nothing was activated. Ask the publisher to check the file."));
      }
      MessageDigest digest = Sha256Digests.create();
      long[] count = {0};
      Flux<ByteBuffer> checked = raw.body()
          .<ByteBuffer>handle((b, sink) -> {
            count[0] += b.remaining();
            downloaded.addAndGet(b.remaining());
            if (count[0] > transfer.size()) {
              sink.error(OtaException.of(Detail.CORRUPT_IMAGE, "The server sent more than the " + transfer.size()
                  + " bytes of " + transfer.url() + " its manifest states; nothing was activated."));
              return;
            }
            digest.update(b.duplicate());
            sink.next(b);
          })
          .concatWith(Mono.defer(() -> {
            if (count[0] == transfer.size() && !Sha256.of(digest.digest()).equals(transfer.sha256())) {
              return Mono.error(OtaException.of(Detail.CORRUPT_IMAGE, "The SHA-256 of " + transfer.url()
                  + " differs from its manifest's (a swapped or damaged file); nothing was activated. Ask the publisher."));
            }
            return Mono.empty();
          }));
      Flux<ByteBuffer> decoded = Decoding.decode(checked, transfer.compression(), limit,
          limit == Long.MAX_VALUE ? Detail.SLOT_TOO_SMALL : Detail.SIZE_MISMATCH);
      UpdateRequest request = indexed;
      Sha256 sha256 = request == null ? null : request.sha256().orElse(null);
      if (request == null || sha256 == null) {
        return decoded;
      }
      // the image's chunk index, cut the way `ota manifest create --delta` cuts by default, kept with the slot
      IndexBuilder builder = new IndexBuilder(Chunking.standard());
      return decoded.doOnNext(builder::accept).concatWith(Mono.defer(() -> {
        ChunkIndex built = builder.finish(request.size().orElse(-1), sha256);
        return built == null ? Mono.empty()
            : Objects.requireNonNull(store).status().flatMap(s -> keep(s.active().other(), built));
      }));
    }

    @Override
    public void discard() {
      raw.discard();
    }
  }

  /** Slot reads, chunk decoding and hashing: never on a network event loop. */
  private static final class Workers {
    static final Scheduler INSTANCE = Schedulers.newBoundedElastic(4, 1024, "otaflux-delta", 60, true);
  }
}
