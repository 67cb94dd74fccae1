package io.otaflux.manifest;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.OptionalLong;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.delta.ImageTransfer;
import io.otaflux.internal.Origin;
import io.otaflux.internal.Redaction;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Updates from a signed manifest: fetches the manifest through a {@link FirmwareSource}, verifies
 * it against {@link TrustedKeys} <i>before</i> any image byte is downloaded, refuses a downgrade,
 * then runs the update bound to the manifest's URL, size and SHA-256.
 *
 * <p>Immutable and copy-on-write, like {@link OtaUpdater}: every setter returns a new instance.
 *
 * <pre>{@code
 * ManifestUpdater updates = ManifestUpdater.of(httpsSource, slotStore,
 *     TrustedKeys.read(List.of(Path.of("ota-key.pub.pem"))));
 * updates.check(URI.create("https://fw.example.com/gw/manifest.json"))     // ota check
 *     .map(VersionCheck::isNewer);
 * updates.update(URI.create("https://fw.example.com/gw/manifest.json"))    // ota update --manifest
 *     .subscribe(event -> log.info("{}", event));
 * }</pre>
 *
 * <p><b>Credentials:</b> credentials given for the manifest (user-info in its URL, or
 * {@link #resolve(UpdateRequest)}) are sent for the image by {@link #update(URI)} and
 * {@link #resolve} only when the image has the same origin (scheme, host without case, effective
 * port); {@link #update(Manifest)} sends none.
 *
 * <p><b>Errors:</b> those of the source while fetching the manifest ({@code TRUST}, {@code NETWORK},
 * {@code SERVER}; the manifest fetch itself is not retried, wrap it in
 * {@code retryWhen(Retry.backoff(..).filter(OtaException::isTransient))} if needed);
 * {@code USAGE} ({@link OtaException.Detail#SIGNATURE_CHECK_REQUIRED}) before anything is fetched when
 * the trusted keys are empty (fail closed; {@link TrustedKeys#skipSignatureCheck()} is the explicit
 * opt-out); {@code INTEGRITY} for a manifest that is too large, does not parse or is not signed by a trusted
 * key; {@code POLICY} for a refused downgrade; then those of {@link OtaUpdater#update}, where a
 * served image that differs from the manifest fails with {@code INTEGRITY} and activates nothing.
 */
public final class ManifestUpdater {

  /** The largest manifest accepted by default: 64 KiB. */
  public static final int DEFAULT_MAX_MANIFEST_BYTES = 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(ManifestUpdater.class);

  private final FirmwareSource source;
  private final SlotStore store;
  private final TrustedKeys keys;
  private final OtaUpdater updater;
  private final boolean allowDowngrade;
  private final int maxManifestBytes;
  private final boolean delta;

  private ManifestUpdater(FirmwareSource source, SlotStore store, TrustedKeys keys, OtaUpdater updater,
      boolean allowDowngrade, int maxManifestBytes, boolean delta) {
    this.delta = delta;
    this.source = source;
    this.store = store;
    this.keys = keys;
    this.updater = updater;
    this.allowDowngrade = allowDowngrade;
    this.maxManifestBytes = maxManifestBytes;
  }

  /**
   * Updates through {@code source} (for the manifest and the image) into {@code store}, accepting
   * manifests signed by {@code keys}; downgrades refused, the default {@link OtaUpdater}.
   *
   * @param source where manifests and images come from
   * @param store the slot store
   * @param keys the trusted keys
   * @return the manifest updater
   */
  public static ManifestUpdater of(FirmwareSource source, SlotStore store, TrustedKeys keys) {
    return new ManifestUpdater(Objects.requireNonNull(source, "source"), Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(keys, "keys"), OtaUpdater.create(), false, DEFAULT_MAX_MANIFEST_BYTES, true);
  }

  /**
   * This, running image downloads with {@code template}'s settings (retries, progress, schedulers);
   * its source and store are replaced by this one's.
   *
   * @param template a configured updater
   * @return a new manifest updater
   */
  public ManifestUpdater updater(OtaUpdater template) {
    return new ManifestUpdater(source, store, keys, Objects.requireNonNull(template, "template"), allowDowngrade,
        maxManifestBytes, delta);
  }

  /**
   * This, installing a manifest whose version is lower than the installed one ({@code true},
   * {@code --allow-downgrade}) or refusing it ({@code false}, the default).
   *
   * @param allow whether downgrades are allowed
   * @return a new manifest updater
   */
  public ManifestUpdater allowDowngrade(boolean allow) {
    return new ManifestUpdater(source, store, keys, updater, allow, maxManifestBytes, delta);
  }

  /**
   * This, using a manifest's delta (its chunk index) when it offers one ({@code true}, the default)
   * or downloading the whole (compressed) image ({@code false}, {@code --no-delta}).
   *
   * @param use whether to use deltas
   * @return a new manifest updater
   */
  public ManifestUpdater delta(boolean use) {
    return new ManifestUpdater(source, store, keys, updater, allowDowngrade, maxManifestBytes, use);
  }

  /**
   * This, refusing manifests larger than {@code bytes}.
   *
   * @param bytes the limit, at least 1 KiB
   * @return a new manifest updater
   */
  public ManifestUpdater maxManifestSize(int bytes) {
    if (bytes < 1024) {
      throw OtaException.of(Reason.USAGE, "A manifest may be at least 1024 bytes long; " + bytes + " is too small a limit.");
    }
    return new ManifestUpdater(source, store, keys, updater, allowDowngrade, bytes, delta);
  }

  /**
   * Fetches and verifies the manifest at {@code manifestUrl}; user-info in the URL becomes
   * credentials, as for {@link UpdateRequest#of(URI)}.
   *
   * @param manifestUrl the manifest's URL
   * @return the verified manifest; its image URL resolved against the manifest's effective URL
   */
  public Mono<Manifest> fetch(URI manifestUrl) {
    Objects.requireNonNull(manifestUrl, "manifestUrl");
    return Mono.defer(() -> fetch(UpdateRequest.of(manifestUrl)));
  }

  /**
   * Fetches and verifies the manifest that {@code manifest} locates, with its credentials. Nothing
   * but the manifest is downloaded.
   *
   * <p><b>Cancellation:</b> cancelling closes the connection.
   *
   * @param manifest the manifest's URL and credentials (size, digest and version are ignored)
   * @return the verified manifest
   */
  public Mono<Manifest> fetch(UpdateRequest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    return Mono.defer(() -> {
      keys.requireKey(manifest.uri()); // fail closed before a byte is fetched
      return source.open(manifest, ResumeFrom.start());
    }).flatMap(this::read);
  }

  private Mono<Manifest> read(ImageDownload download) {
    URI where = download.effectiveUri();
    OptionalLong announced = download.totalSize();
    if (announced.isPresent() && announced.getAsLong() > maxManifestBytes) {
      download.discard();
      return Mono.error(tooLarge(where, announced.getAsLong() + " bytes"));
    }
    return download.body()
        .collect(ByteArrayOutputStream::new, (buffer, chunk) -> append(buffer, chunk, where))
        .map(buffer -> {
          Manifest m = keys.verify(buffer.toByteArray(), where);
          if (m.verifiedBy().isPresent()) {
            log.debug("Manifest {} from {} accepted, signed by {}", m.version(), Redaction.uri(where),
                m.verifiedBy().get().keyId());
          } else {
            log.warn("Manifest {} from {} accepted WITHOUT checking its signature (TrustedKeys.skipSignatureCheck())",
                m.version(), Redaction.uri(where));
          }
          return m;
        });
  }

  private void append(ByteArrayOutputStream buffer, ByteBuffer chunk, URI where) {
    if ((long) buffer.size() + chunk.remaining() > maxManifestBytes) {
      throw tooLarge(where, "more than that");
    }
    byte[] bytes = new byte[chunk.remaining()];
    chunk.get(bytes);
    buffer.write(bytes, 0, bytes.length);
  }

  private OtaException tooLarge(URI where, String size) {
    return OtaException.of(OtaException.Detail.MALFORMED_MANIFEST, "The manifest at " + Redaction.uri(where) + " is " + size
        + ", but a manifest has at most " + maxManifestBytes + " bytes; nothing was downloaded. "
        + "Check that the URL names the manifest, not the image.");
  }

  /**
   * Fetches and verifies the manifest, and compares its version with the store's installed one
   * ({@code ota check}).
   *
   * @param manifestUrl the manifest's URL
   * @return the comparison; {@link VersionCheck#isNewer()} answers "is there something new?"
   */
  public Mono<VersionCheck> check(URI manifestUrl) {
    return fetch(manifestUrl).flatMap(m -> store.status().map(m::check));
  }

  /**
   * The signed-manifest step, composable with any update: fetches and verifies the manifest that
   * {@code manifest} locates (with its credentials), compares its version with the store's
   * installed one and refuses a downgrade unless allowed (the same version passes: it is installed
   * again), and resolves its image URL against the manifest's effective URL. The image request
   * carries the manifest's credentials when the image has the same origin (scheme, host without
   * case, effective port), and none otherwise. Nothing but the
   * manifest is downloaded.
   *
   * <pre>{@code
   * updates.resolve(UpdateRequest.of(manifestUrl))
   *     .flatMapMany(r -> updater.update(r.request().withActivation(false)));   // download only
   * }</pre>
   *
   * <p>Lazy: nothing is fetched before subscription; the subscriber's {@code Context} reaches the
   * source. {@link #update(URI)} is this step followed by the image update (with compressed and
   * delta files when the manifest offers them).
   *
   * <p><b>Cancellation:</b> cancelling closes the manifest's connection.
   *
   * <p><b>Errors:</b> those of {@link #fetch(UpdateRequest)}; {@code POLICY}
   * ({@link OtaException.Detail#DOWNGRADE}) for a refused downgrade; {@code USAGE} when the image
   * URL is relative and the manifest's own URL unknown.
   *
   * @param manifest the manifest's URL and credentials (size, digest and version are ignored)
   * @return the verified manifest, its version check and its image request
   */
  public Mono<ResolvedUpdate> resolve(UpdateRequest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    return fetch(manifest).flatMap(m -> store.status().map(status -> resolved(m, status, manifest)));
  }

  /**
   * Fetches and verifies the manifest, refuses a downgrade unless allowed, then downloads,
   * verifies and activates its image ({@code ota update --manifest}): {@link #resolve} followed by
   * the update. The same version as the installed one is installed again (it is no downgrade): use
   * {@link #check} first to skip it.
   *
   * <p><b>Cancellation:</b> cancelling aborts, as for {@link OtaUpdater#update}.
   *
   * @param manifestUrl the manifest's URL
   * @return the events of the image update
   */
  public Flux<UpdateEvent> update(URI manifestUrl) {
    return update(manifestUrl, Mono.never());
  }

  /**
   * As {@link #update(URI)}, aborting when {@code abortTrigger} emits, completes or fails.
   *
   * @param manifestUrl the manifest's URL
   * @param abortTrigger a signal to abort
   * @return the events of the image update
   */
  public Flux<UpdateEvent> update(URI manifestUrl, Publisher<?> abortTrigger) {
    Objects.requireNonNull(manifestUrl, "manifestUrl");
    Objects.requireNonNull(abortTrigger, "abortTrigger");
    return Mono.fromSupplier(() -> UpdateRequest.of(manifestUrl))
        .flatMap(this::resolve)
        .flatMapMany(resolved -> install(resolved, abortTrigger));
  }

  /**
   * Installs the image of a manifest already fetched (by {@link #fetch}, say, to show its version
   * first): checks its signature against this updater's trusted keys again, refuses a downgrade
   * unless allowed, then runs the update. No credentials are sent.
   *
   * @param manifest a verified manifest
   * @return the events of the image update
   */
  public Flux<UpdateEvent> update(Manifest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    return Mono.fromCallable(() -> keys.isChecking() ? keys.authenticate(manifest) : manifest)
        .flatMap(m -> store.status().map(status -> resolved(m, status, null)))
        .flatMapMany(resolved -> install(resolved, Mono.never()));
  }

  /** The version policy and the image request; what it throws ends the stream as an error. */
  private ResolvedUpdate resolved(Manifest manifest, StoreStatus status, @Nullable UpdateRequest origin) {
    VersionCheck check = manifest.check(status);
    if (!allowDowngrade) {
      check.refuseDowngrade();
    } else if (check.isDowngrade()) {
      log.warn("Installing version {} over {}: downgrade allowed", check.offered(), check.installed().orElse(null));
    }
    UpdateRequest request = manifest.request();
    return new ResolvedUpdate(manifest, check, origin == null ? request : Origin.carryCredentials(origin, request));
  }

  private Flux<UpdateEvent> install(ResolvedUpdate resolved, Publisher<?> abortTrigger) {
    Manifest manifest = resolved.manifest();
    if (manifest.transfer().isEmpty()) {
      return updater.source(source).store(store).update(resolved.request(), abortTrigger);
    }
    // compressed and delta downloads: the transfer turns the manifest's files into the image's bytes,
    // and says so when it falls back from a delta (its notices join the events)
    ImageTransfer transfer = ImageTransfer.of(source, manifest, store, delta);
    Flux<UpdateEvent> events = updater.source(transfer).store(store).update(resolved.request(), abortTrigger)
        .doFinally(signal -> transfer.complete());
    return Flux.merge(transfer.notices(), events);
  }

  @Override
  public String toString() {
    return "ManifestUpdater[" + keys + (allowDowngrade ? ", downgrades allowed" : "") + "]";
  }
}
