package io.otaflux.manifest;

import static io.otaflux.manifest.Fixtures.assertReason;
import static io.otaflux.manifest.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.spi.ImageDownload;
import io.otaflux.testkit.InMemoryFirmwareSource;
import io.otaflux.testkit.InMemorySlotStore;
import io.otaflux.spi.ResumeFrom;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ManifestUpdaterTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final URI MANIFEST_URL = URI.create("https://fw.example/gw/stable/manifest.json");
  private static final URI IMAGE_URL = URI.create("https://fw.example/gw/stable/gw-2.0.0.bin");

  private final byte[] image = random(200_000, 1);
  private final InMemorySlotStore store = InMemorySlotStore.create(1024 * 1024);
  private final Routes source = new Routes();
  private final TrustedKeys trusted = TrustedKeys.of(Fixtures.ED25519.publicKey());

  /** Serves each URL from its own in-memory source and records every request. */
  private static final class Routes implements FirmwareSource {
    final Map<URI, InMemoryFirmwareSource> routes = new HashMap<>();
    final List<UpdateRequest> requests = Collections.synchronizedList(new ArrayList<>());

    Routes serve(URI uri, byte[] bytes) {
      routes.put(uri, InMemoryFirmwareSource.of(bytes).effectiveUri(uri));
      return this;
    }

    Routes serve(URI uri, InMemoryFirmwareSource source) {
      routes.put(uri, source);
      return this;
    }

    List<URI> opened() {
      synchronized (requests) {
        return requests.stream().map(UpdateRequest::uri).toList();
      }
    }

    @Override
    public Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from) {
      requests.add(request);
      InMemoryFirmwareSource route = routes.get(request.uri());
      return route == null
          ? Mono.error(OtaException.of(Reason.SERVER, "404 Not Found: " + request.uri()))
          : route.open(request, from);
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static String manifest(String version, String url, byte[] image, SigningKey key) {
    return Manifest.builder().version(version).url(url).image(image).sign(key).json();
  }

  private ManifestUpdater updates(TrustedKeys keys) {
    return ManifestUpdater.of(source, store, keys)
        .updater(OtaUpdater.create().retry(0, Duration.ofMillis(1), Duration.ofMillis(1)).syncEvery(64 * 1024));
  }

  private StoreStatus status() {
    return store.status().block(TIMEOUT);
  }

  /** Installs {@code version} through a manifest, boots it and confirms it: the running good version. */
  private void install(String version) {
    URI manifestUrl = URI.create("https://fw.example/gw/" + version + "/manifest.json");
    byte[] bytes = random(1000, version.hashCode());
    source.serve(manifestUrl, utf8(manifest(version, "gw.bin", bytes, Fixtures.ED25519)))
        .serve(manifestUrl.resolve("gw.bin"), bytes);
    StepVerifier.create(updates(trusted).allowDowngrade(true).update(manifestUrl))
        .thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    store.boot().then(store.markGood()).block(TIMEOUT);
    assertThat(status().slot(status().active()).version()).isEqualTo(version);
    source.requests.clear();
  }

  private void assertNothingActivated(SlotId expectedActive) {
    StoreStatus s = status();
    assertThat(s.active()).isEqualTo(expectedActive);
    assertThat(s.next()).isEqualTo(expectedActive);
    assertThat(s.slot(expectedActive.other()).state().isBootable()).isFalse();
  }

  @Test
  void installsAndActivatesTheImageASignedManifestVouchesFor() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)))
        .serve(IMAGE_URL, image);
    List<UpdateEvent> events = new ArrayList<>();
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .recordWith(() -> events)
        .thenConsumeWhile(e -> true)
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(events.get(events.size() - 1)).isInstanceOf(UpdateEvent.Activated.class);
    assertThat(source.opened()).containsExactly(MANIFEST_URL, IMAGE_URL);
    SlotStatus b = status().slot(SlotId.B);
    assertThat(b.state()).isEqualTo(SlotState.TRIAL);
    assertThat(b.version()).isEqualTo("2.0.0");
    assertThat(b.size()).isEqualTo(image.length);
    assertThat(store.contents(SlotId.B)).isEqualTo(image);
    assertThat(status().next()).isEqualTo(SlotId.B);
  }

  @Test
  void fetchesAndVerifiesTheManifestResolvingItsRelativeUrl() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "../images/gw.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).fetch(MANIFEST_URL))
        .assertNext(m -> {
          assertThat(m.imageUri()).contains(URI.create("https://fw.example/gw/images/gw.bin"));
          assertThat(m.location()).contains(MANIFEST_URL);
          assertThat(m.verifiedBy()).contains(Fixtures.ED25519.publicKey());
        })
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(source.requests.get(0).uri()).isEqualTo(MANIFEST_URL);
  }

  @Test
  void resolvesARelativeUrlAgainstTheManifestsUrlAfterRedirects() {
    URI moved = URI.create("https://cdn.example/v2/manifest.json");
    source.serve(MANIFEST_URL, InMemoryFirmwareSource.of(utf8(manifest("2.0.0", "gw.bin", image, Fixtures.ED25519)))
        .effectiveUri(moved));
    StepVerifier.create(updates(trusted).fetch(MANIFEST_URL))
        .assertNext(m -> assertThat(m.imageUri()).contains(URI.create("https://cdn.example/v2/gw.bin")))
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void checksTheSignatureBeforeTheImageIsDownloaded() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.OTHER_ED25519)))
        .serve(IMAGE_URL, image);
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e).hasMessageContaining("not trusted");
        })
        .verify(TIMEOUT);
    assertThat(source.opened()).containsExactly(MANIFEST_URL);
    assertNothingActivated(SlotId.A);
    assertThat(status().slot(SlotId.B).state()).isEqualTo(SlotState.EMPTY);
  }

  @Test
  void aTamperedManifestDownloadsNothing() {
    String tampered = Fixtures.replace(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519), "url",
        "\"https://evil.example/gw.bin\"");
    source.serve(MANIFEST_URL, utf8(tampered));
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .expectErrorSatisfies(e -> assertReason(e, Reason.INTEGRITY))
        .verify(TIMEOUT);
    assertThat(source.opened()).containsExactly(MANIFEST_URL);
  }

  @Test
  void anImageThatDiffersFromItsManifestFailsIntegrityAndActivatesNothing() {
    byte[] other = random(image.length, 99);
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)))
        .serve(IMAGE_URL, other);
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Verified))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e).hasMessageContaining("SHA-256");
        })
        .verify(TIMEOUT);
    assertNothingActivated(SlotId.A);
  }

  @Test
  void anImageOfAnotherSizeThanItsManifestFailsIntegrity() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)))
        .serve(IMAGE_URL, random(image.length + 1, 1));
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> assertReason(e, Reason.INTEGRITY))
        .verify(TIMEOUT);
    assertNothingActivated(SlotId.A);
  }

  @Test
  void refusesADowngradeWithPolicyBeforeDownloadingTheImage() {
    install("2.0.0");
    StoreStatus before = status();
    source.serve(MANIFEST_URL, utf8(manifest("1.9.0", "gw-1.9.0.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.POLICY);
          assertThat(e).hasMessageContaining("Downgrade refused").hasMessageContaining("--allow-downgrade");
        })
        .verify(TIMEOUT);
    assertThat(source.opened()).containsExactly(MANIFEST_URL);
    assertThat(status()).isEqualTo(before);
  }

  @Test
  void installsADowngradeWhenAllowed() {
    install("2.0.0");
    URI imageUrl = MANIFEST_URL.resolve("gw-1.9.0.bin");
    source.serve(MANIFEST_URL, utf8(manifest("1.9.0", "gw-1.9.0.bin", image, Fixtures.ED25519))).serve(imageUrl, image);
    StepVerifier.create(updates(trusted).allowDowngrade(true).update(MANIFEST_URL))
        .thenConsumeWhile(e -> true)
        .expectComplete()
        .verify(TIMEOUT);
    StoreStatus s = status();
    assertThat(s.slot(s.next()).state()).isEqualTo(SlotState.TRIAL);
    assertThat(s.slot(s.next()).version()).isEqualTo("1.9.0");
  }

  @Test
  void checkSaysNothingNewForTheInstalledVersionAndNewerForAHigherOne() {
    install("2.0.0");
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).check(MANIFEST_URL))
        .assertNext(c -> {
          assertThat(c.isNewer()).isFalse();
          assertThat(c.outcome()).isEqualTo(VersionCheck.Outcome.SAME);
        })
        .expectComplete()
        .verify(TIMEOUT);
    source.serve(MANIFEST_URL, utf8(manifest("2.1.0-rc.1", "gw.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).check(MANIFEST_URL))
        .assertNext(c -> {
          assertThat(c.isNewer()).isTrue();
          assertThat(c.offered()).hasToString("2.1.0-rc.1");
          assertThat(c.installed()).map(Object::toString).contains("2.0.0");
        })
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(source.opened()).containsOnly(MANIFEST_URL);
  }

  @Test
  void checkOnAFreshStoreSaysNewer() {
    source.serve(MANIFEST_URL, utf8(manifest("0.1.0", "gw.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).check(MANIFEST_URL))
        .assertNext(c -> assertThat(c.isNewer()).isTrue())
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void refusesAManifestLargerThanTheLimitWithoutReadingIt() {
    source.serve(MANIFEST_URL, new byte[ManifestUpdater.DEFAULT_MAX_MANIFEST_BYTES + 1]);
    assertRefusedAsLargerThan(updates(trusted).fetch(MANIFEST_URL), 65536);
  }

  private static void assertRefusedAsLargerThan(Mono<Manifest> fetch, int limit) {
    StepVerifier.create(fetch)
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e).hasMessageContaining("at most " + limit + " bytes");
        })
        .verify(TIMEOUT);
  }

  @Test
  void stopsReadingAManifestOfUnknownLengthAtTheLimit() {
    byte[] huge = new byte[10 * 1024 * 1024];
    source.serve(MANIFEST_URL, InMemoryFirmwareSource.of(huge).withoutLength().chunkSize(1024).effectiveUri(MANIFEST_URL));
    assertRefusedAsLargerThan(updates(trusted).maxManifestSize(4096).fetch(MANIFEST_URL), 4096);
  }

  @Test
  void aManifestThatIsNotJsonIsAClearIntegrityError() {
    source.serve(MANIFEST_URL, utf8("<html>404</html>"));
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .expectErrorSatisfies(e -> {
          assertReason(e, Reason.INTEGRITY);
          assertThat(e).hasMessageContaining("The manifest from " + MANIFEST_URL + " is not valid")
              .hasMessageContaining("not valid JSON");
        })
        .verify(TIMEOUT);
  }

  @Test
  void passesOnTheSourcesErrors() {
    source.serve(MANIFEST_URL, InMemoryFirmwareSource.of(new byte[0])
        .failingWith(OtaException.of(Reason.TRUST, "The server's certificate is not trusted.")));
    StepVerifier.create(updates(trusted).update(MANIFEST_URL))
        .expectErrorSatisfies(e -> assertReason(e, Reason.TRUST))
        .verify(TIMEOUT);
  }

  @Test
  void sendsTheManifestsCredentialsOnlyToTheSameOrigin() {
    URI withUser = URI.create("https://ops:secret@fw.example/gw/stable/manifest.json");
    URI cdnImage = URI.create("https://cdn.example/gw.bin");
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519))).serve(IMAGE_URL, image);
    StepVerifier.create(updates(trusted).update(withUser)).thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    assertThat(source.requests).allSatisfy(r -> assertThat(r.credentials()).isPresent());

    InMemorySlotStore other = InMemorySlotStore.create(1024 * 1024);
    source.requests.clear();
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", cdnImage.toString(), image, Fixtures.ED25519))).serve(cdnImage, image);
    StepVerifier.create(ManifestUpdater.of(source, other, trusted).update(withUser))
        .thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    assertThat(source.requests.get(0).credentials()).isPresent();
    assertThat(source.requests.get(1).uri()).isEqualTo(cdnImage);
    assertThat(source.requests.get(1).credentials()).isEmpty();
  }

  @Test
  void theManifestsCredentialsReachAnImageOnItsOriginWrittenWithAnotherCaseAndAnExplicitPort() {
    URI manifestUrl = URI.create("https://FW.Example/gw/manifest.json");
    URI imageUrl = URI.create("https://fw.example:443/gw/gw.bin");
    source.serve(manifestUrl, utf8(manifest("2.0.0", imageUrl.toString(), image, Fixtures.ED25519)))
        .serve(imageUrl, image);
    StepVerifier.create(updates(trusted).update(URI.create("https://ops:secret@FW.Example/gw/manifest.json")))
        .thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    assertThat(source.opened()).containsExactly(manifestUrl, imageUrl);
    assertThat(source.requests).allSatisfy(r -> assertThat(r.credentials()).isPresent());
  }

  @Test
  void aCompressedImagesFileOnTheManifestsOriginGetsItsCredentialsAndOneOnAnotherOriginNone() throws Exception {
    URI manifestUrl = URI.create("https://fw.example/gw/manifest.json");
    URI imageUrl = URI.create("https://fw.example/gw/gw.bin");
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(image);
    }
    byte[] compressed = gz.toByteArray();
    for (String fileUrl : List.of("https://FW.EXAMPLE:443/gw/gw.bin.gz", "https://cdn.example/gw/gw.bin.gz")) {
      URI file = URI.create(fileUrl);
      source.requests.clear();
      source.serve(manifestUrl, utf8(Manifest.builder().version("2.0.0").url(imageUrl.toString()).image(image)
          .transfer(fileUrl, compressed.length, io.otaflux.Sha256.digest(compressed), io.otaflux.delta.Compression.GZIP)
          .sign(Fixtures.ED25519).json()))
          .serve(file, compressed);
      StepVerifier.create(ManifestUpdater.of(source, InMemorySlotStore.create(1024 * 1024), trusted)
              .update(URI.create("https://ops:secret@fw.example/gw/manifest.json")))
          .thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
      assertThat(source.opened()).containsExactly(manifestUrl, file);
      assertThat(source.requests.get(1).credentials().isPresent()).as(fileUrl)
          .isEqualTo(file.getHost().equalsIgnoreCase("fw.example"));
    }
  }

  @Test
  void resolvingYieldsTheImageRequestForADownloadWithoutActivation() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519))).serve(IMAGE_URL, image);
    ResolvedUpdate resolved = updates(trusted).resolve(UpdateRequest.of(MANIFEST_URL)).block(TIMEOUT);
    assertThat(resolved.check().outcome()).isEqualTo(VersionCheck.Outcome.NEWER);
    assertThat(resolved.manifest().version()).hasToString("2.0.0");
    assertThat(resolved.request().uri()).isEqualTo(IMAGE_URL);
    assertThat(resolved.request().version()).contains("2.0.0");
    assertThat(source.opened()).containsExactly(MANIFEST_URL);
    StepVerifier.create(OtaUpdater.create().source(source).store(store).update(resolved.request().withActivation(false)))
        .thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    assertThat(status().slot(SlotId.B).version()).isEqualTo("2.0.0");
    assertThat(status().next()).isEqualTo(SlotId.A);
  }

  @Test
  void resolvingRefusesADowngradeButNotTheInstalledVersionItself() {
    install("2.0.0");
    source.serve(MANIFEST_URL, utf8(manifest("1.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).resolve(UpdateRequest.of(MANIFEST_URL)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(OtaException.class,
            ota -> assertThat(ota.detail()).isEqualTo(OtaException.Detail.DOWNGRADE)))
        .verify(TIMEOUT);
    StepVerifier.create(updates(trusted).allowDowngrade(true).resolve(UpdateRequest.of(MANIFEST_URL)))
        .assertNext(r -> assertThat(r.check().isDowngrade()).isTrue()).expectComplete().verify(TIMEOUT);
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)));
    StepVerifier.create(updates(trusted).resolve(UpdateRequest.of(MANIFEST_URL)))
        .assertNext(r -> assertThat(r.check().outcome()).isEqualTo(VersionCheck.Outcome.SAME)).expectComplete()
        .verify(TIMEOUT);
    assertThat(source.opened()).containsOnly(MANIFEST_URL);
  }

  @Test
  void resolvingIsLazyAndTheSubscribersContextReachesTheSource() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)));
    List<Object> seen = Collections.synchronizedList(new ArrayList<>());
    FirmwareSource reading = new FirmwareSource() {
      @Override
      public Mono<ImageDownload> open(UpdateRequest request, ResumeFrom from) {
        return Mono.deferContextual(ctx -> {
          seen.add(ctx.getOrDefault("trace", "none"));
          return source.open(request, from);
        });
      }
    };
    Mono<ResolvedUpdate> step = ManifestUpdater.of(reading, store, trusted).resolve(UpdateRequest.of(MANIFEST_URL));
    assertThat(source.opened()).isEmpty();
    StepVerifier.create(step.contextWrite(ctx -> ctx.put("trace", "t-42"))).expectNextCount(1).expectComplete()
        .verify(TIMEOUT);
    assertThat(seen).containsExactly("t-42");
  }

  @Test
  void anUncheckedManifestIsNotInstalledWhenKeysAreConfigured() {
    Manifest unchecked = TrustedKeys.skipSignatureCheck()
        .verify(utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.OTHER_ED25519)), MANIFEST_URL);
    source.serve(IMAGE_URL, image);
    StepVerifier.create(updates(trusted).update(unchecked))
        .expectErrorSatisfies(e -> assertReason(e, Reason.INTEGRITY))
        .verify(TIMEOUT);
    assertThat(source.opened()).isEmpty();
  }

  @Test
  void aManifestCheckedWithOtherKeysIsCheckedAgainWithThisUpdatersKeys() {
    Manifest signedByOther = TrustedKeys.of(Fixtures.OTHER_ED25519.publicKey())
        .verify(utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.OTHER_ED25519)), MANIFEST_URL);
    Manifest justBuilt = Manifest.builder().version("2.0.0").url(IMAGE_URL.toString()).image(image)
        .sign(Fixtures.OTHER_ED25519);
    source.serve(IMAGE_URL, image);
    for (Manifest m : new Manifest[] {signedByOther, justBuilt}) {
      StepVerifier.create(updates(trusted).update(m))
          .expectErrorSatisfies(e -> {
            assertReason(e, Reason.INTEGRITY);
            assertThat(e).hasMessageContaining("not trusted");
          })
          .verify(TIMEOUT);
    }
    assertThat(source.opened()).isEmpty();
  }

  @Test
  void installsAManifestFetchedFirstToShowItsVersion() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519))).serve(IMAGE_URL, image);
    ManifestUpdater updates = updates(trusted);
    Manifest m = updates.fetch(MANIFEST_URL).block(TIMEOUT);
    assertThat(m.version()).hasToString("2.0.0");
    StepVerifier.create(updates.update(m)).thenConsumeWhile(e -> true).expectComplete().verify(TIMEOUT);
    assertThat(status().slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
  }

  @Test
  void fetchingIsLazy() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)));
    Mono<Manifest> fetch = updates(trusted).fetch(MANIFEST_URL);
    updates(trusted).update(MANIFEST_URL);
    updates(trusted).check(MANIFEST_URL);
    assertThat(source.opened()).isEmpty();
    StepVerifier.create(fetch).expectNextCount(1).expectComplete().verify(TIMEOUT);
    assertThat(source.opened()).containsExactly(MANIFEST_URL);
  }

  @Test
  void withoutAnyTrustedKeyAManifestIsRefusedBeforeAnythingIsFetched() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.ED25519)))
        .serve(IMAGE_URL, image);
    for (TrustedKeys none : List.of(TrustedKeys.of(), trusted.without(Fixtures.ED25519.publicKey()))) {
      StepVerifier.create(updates(none).update(MANIFEST_URL))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOfSatisfying(OtaException.class, ota -> {
              assertThat(ota.detail()).isEqualTo(OtaException.Detail.SIGNATURE_CHECK_REQUIRED);
              assertThat(ota.reason().exitCode()).isEqualTo(2);
            });
            assertThat(e).hasMessageContaining("nothing was downloaded");
          })
          .verify(TIMEOUT);
      StepVerifier.create(updates(none).check(MANIFEST_URL))
          .expectErrorSatisfies(e -> assertReason(e, Reason.USAGE))
          .verify(TIMEOUT);
    }
    assertThat(source.opened()).isEmpty();
    assertThat(status().slot(SlotId.B).state()).isEqualTo(SlotState.EMPTY);
  }

  @Test
  void onlyTheExplicitOptOutInstallsAWellFormedManifestUnchecked() {
    source.serve(MANIFEST_URL, utf8(manifest("2.0.0", "gw-2.0.0.bin", image, Fixtures.OTHER_ED25519)))
        .serve(IMAGE_URL, image);
    StepVerifier.create(updates(TrustedKeys.skipSignatureCheck()).update(MANIFEST_URL))
        .thenConsumeWhile(e -> true)
        .expectComplete()
        .verify(TIMEOUT);
    assertThat(status().slot(SlotId.B).version()).isEqualTo("2.0.0");
  }
}
