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
 * {@link #fetch(UpdateRequest)}) are sent for the image by {@link #update(URI)} only when the image
 * has the same origin (scheme, host and port); {@link #update(Manifest)} sends none.
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
      boolean allowDowngrade, int maxManifestBytes) {
    this(source, store, keys, updater, allowDowngrade, maxManifestBytes, true);
  }

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
        Objects.requireNonNull(keys, "keys"), OtaUpdater.create(), false, DEFAULT_MAX_MANIFEST_BYTES);
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
   * Fetches and verifies the manifest, refuses a downgrade unless allowed, then downloads,
   * verifies and activates its image ({@code ota update --manifest}). The same version as the
   * installed one is installed again (it is no downgrade): use {@link #check} first to skip it.
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
    return Flux.defer(() -> {
      UpdateRequest manifestRequest = UpdateRequest.of(manifestUrl);
      return fetch(manifestRequest).flatMapMany(m -> install(m, manifestRequest, abortTrigger));
    });
  }

  /**
   * Installs the image of a manifest already fetched (by {@link #fetch}, say, to show its version
   * first): checks its signature against this updater's trusted keys again, refuses a downgrade
   * unless allowed, then runs the update.
   *
   * @param manifest a verified manifest
   * @return the events of the image update
   */
  public Flux<UpdateEvent> update(Manifest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    return install(manifest, null, Mono.never());
  }

  private Flux<UpdateEvent> install(Manifest manifest, @Nullable UpdateRequest origin,
      Publisher<?> abortTrigger) {
    return Mono.fromCallable(() -> keys.isChecking() ? keys.authenticate(manifest) : manifest)
        .zipWith(store.status())
        .flatMapMany(checked -> run(checked.getT1(), checked.getT2(), origin, abortTrigger));
  }

  /** Runs in the {@code flatMapMany}: what it throws ends the stream as an error. */
  private Flux<UpdateEvent> run(Manifest manifest, StoreStatus status, @Nullable UpdateRequest origin,
      Publisher<?> abortTrigger) {
    VersionCheck check = manifest.check(status);
    if (!allowDowngrade) {
      check.refuseDowngrade();
    } else if (check.isDowngrade()) {
      log.warn("Installing version {} over {}: downgrade allowed", check.offered(), check.installed().orElse(null));
    }
    UpdateRequest request = manifest.request();
    if (origin != null && origin.credentials().isPresent() && sameOrigin(origin.uri(), request.uri())) {
      request = request.withCredentials(origin.credentials().get());
    }
    if (manifest.transfer().isEmpty()) {
      return updater.source(source).store(store).update(request, abortTrigger);
    }
    // compressed and delta downloads: the transfer turns the manifest's files into the image's bytes,
    // and says so when it falls back from a delta (its notices join the events)
    ImageTransfer transfer = ImageTransfer.of(source, manifest, store, delta);
    Flux<UpdateEvent> events = updater.source(transfer).store(store).update(request, abortTrigger)
        .doFinally(signal -> transfer.complete());
    return Flux.merge(transfer.notices(), events);
  }

  private static boolean sameOrigin(URI a, URI b) {
    return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : "http".equalsIgnoreCase(u.getScheme()) ? 80 : -1;
  }

  @Override
  public String toString() {
    return "ManifestUpdater[" + keys + (allowDowngrade ? ", downgrades allowed" : "") + "]";
  }
}
