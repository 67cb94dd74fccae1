package io.otaflux.reliability;

import static io.otaflux.reliability.Bench.WAIT;
import static io.otaflux.reliability.Bench.fails;
import static io.otaflux.reliability.Bench.source;
import static io.otaflux.reliability.Bench.succeeds;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Base64;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateRequest;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.SignatureAlgorithm;
import io.otaflux.manifest.SigningKey;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Mono;

/** Integrity: the bytes activated are exactly the bytes meant, or nothing is activated. */
class IntegrityMatrixTest {

  private static final SigningKey PUBLISHER = SigningKey.generate();
  private static final SigningKey STRANGER = SigningKey.generate();
  private static final SigningKey P256 = SigningKey.generate(SignatureAlgorithm.ECDSA_P256_SHA256);

  @RegisterExtension
  final Bench bench = new Bench();

  private final byte[] image = Bench.image(300_000, 5);

  private static TestServer.Route json(String text) {
    return (req, res, n) -> res.header(HttpHeaderNames.CONTENT_TYPE, "application/json").sendString(Mono.just(text));
  }

  private TestServer serverWith(Manifest.Builder manifest, SigningKey key) {
    return serving(manifest.sign(key).json());
  }

  /** The manifest of {@code server}, the publisher's key trusted, fails with INTEGRITY naming {@code word}; the image is never fetched. */
  private void refusedBeforeTheImage(TestServer server, String word) {
    manifestFails(bench.device(), server, TrustedKeys.of(PUBLISHER.publicKey()), Reason.INTEGRITY, word);
    assertThat(server.requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw.bin");
  }

  /** A server of the image at /fw.bin and of {@code manifest} at /manifest.json. */
  private TestServer serving(String manifest) {
    return bench.https().route("/fw.bin", Routes.image(image)).route("/manifest.json", json(manifest));
  }

  /** The manifest of version 2.0.0 of the image, signed by {@code key}, as JSON. */
  private String signed(SigningKey key) {
    return Manifest.builder().version("2.0.0").url("fw.bin").image(image).sign(key).json();
  }

  private OtaException manifestFails(Device device, TestServer server, TrustedKeys keys, Reason reason,
      String... names) {
    return Bench.fails(device, ManifestUpdater.of(source(), device.store, keys)
        .updater(Bench.updater(device, source(), 1)).update(URI.create(server.url("/manifest.json"))), reason, names);
  }

  @Test
  @DisplayName("digest mismatch")
  @Case(category = "integrity", fault = "the image's SHA-256 differs from the expected one", outcome = "INTEGRITY (6)")
  void digestMismatch() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")).withSha256(Sha256.digest(new byte[] {1})), 1,
        Reason.INTEGRITY, "SHA-256");
  }

  @Test
  @DisplayName("size mismatch")
  @Case(category = "integrity", fault = "Content-Length differs from the expected size", outcome = "INTEGRITY (6) before a byte is written")
  void sizeMismatch() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(image));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")).withSize(image.length + 1L), 1, Reason.INTEGRITY,
        "bytes", "expected");
  }

  @Test
  @DisplayName("truncated image")
  @Case(category = "integrity", fault = "the server's file is cut short (a clean, complete answer of the first half)", outcome = "INTEGRITY (6)")
  void truncated() {
    TestServer server = bench.https().route("/fw.bin", Routes.image(Arrays.copyOf(image, image.length / 2)));
    fails(bench.device(), UpdateRequest.of(server.url("/fw.bin")).withSha256(Sha256.digest(image)), 1,
        Reason.INTEGRITY, "SHA-256");
  }

  @Test
  @DisplayName("image replaced between tries")
  @Case(category = "integrity", fault = "connection cut; the file changes (new ETag) before the resume", outcome = "restarts from byte 0; the new image whole, never a mix")
  void replacedBetweenTries() {
    byte[] replacement = Bench.image(image.length, 55);
    Routes.Image first = Routes.image(image).cutFirstAt(250_000);
    Routes.Image second = Routes.image(replacement);
    TestServer server = bench.https().route("/fw.bin", (req, res, n) -> n == 0 ? first.handle(req, res, n)
        : second.handle(req, res, n));
    Device device = bench.device();
    succeeds(device, source(), UpdateRequest.of(server.url("/fw.bin")), 2);
    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(1).header("If-Range")).isEqualTo(first.etag());
    try {
      byte[] slot = Files.readAllBytes(device.store.slotPath(SlotId.A));
      assertThat(Sha256.digest(Arrays.copyOf(slot, replacement.length))).isEqualTo(Sha256.digest(replacement));
      assertThat(device.store.status().block(WAIT).slot(SlotId.A).sha256()).isEqualTo(Sha256.digest(replacement));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  @DisplayName("manifest signed by an unknown key")
  @Case(category = "integrity", fault = "a well-formed manifest signed by a key the device does not trust", outcome = "INTEGRITY (6), the image is never fetched")
  void unknownSigner() {
    refusedBeforeTheImage(serving(signed(STRANGER)), "key");
  }

  @Test
  @DisplayName("all-zero ECDSA signature")
  @Case(category = "integrity", fault = "manifest whose P-256 signature is r = s = 0 (CVE-2022-21449)", outcome = "INTEGRITY (6)")
  void zeroSignature() {
    String zero = Base64.getEncoder().encodeToString(java.util.HexFormat.of().parseHex("3006020100020100"));
    String forged = signed(P256).replaceAll("\"signature\": \"[^\"]*\"", "\"signature\": \"" + zero + "\"");
    manifestFails(bench.device(), serving(forged), TrustedKeys.of(P256.publicKey()), Reason.INTEGRITY, "signature");
  }

  @Test
  @DisplayName("tampered manifest")
  @Case(category = "integrity", fault = "a signed manifest whose SHA-256 was edited afterwards", outcome = "INTEGRITY (6), the image is never fetched")
  void tampered() {
    String forged = signed(PUBLISHER).replaceAll("\"sha256\": \"[0-9a-f]*\"",
        "\"sha256\": \"" + Sha256.digest(new byte[1]).hex() + "\"");
    refusedBeforeTheImage(serving(forged), "signature");
  }

  @Test
  @DisplayName("manifest names other bytes")
  @Case(category = "integrity", fault = "validly signed manifest, but the server's image differs from its SHA-256", outcome = "INTEGRITY (6)")
  void manifestDigestMismatch() {
    Manifest.Builder m = Manifest.builder().version("2.0.0").url("fw.bin").image(image.length, Sha256.digest(new byte[7]));
    manifestFails(bench.device(), serverWith(m, PUBLISHER), TrustedKeys.of(PUBLISHER.publicKey()), Reason.INTEGRITY,
        "SHA-256");
  }

  @Test
  @DisplayName("downgrade")
  @Case(category = "integrity", fault = "signed manifest offers 1.0.0 while 2.0.0 is installed and good", outcome = "POLICY (9)")
  void downgrade() {
    Device device = bench.device();
    TestServer newer = serving(signed(PUBLISHER));
    ManifestUpdater updater = ManifestUpdater.of(source(), device.store, TrustedKeys.of(PUBLISHER.publicKey()))
        .updater(Bench.updater(device, source(), 1));
    updater.update(URI.create(newer.url("/manifest.json"))).blockLast(WAIT);
    device.store.boot().block(WAIT);
    device.store.markGood().block(WAIT);
    Device installed = Device.reopen(device);
    TestServer older = serverWith(Manifest.builder().version("1.0.0").url("fw.bin").image(image), PUBLISHER);
    manifestFails(installed, older, TrustedKeys.of(PUBLISHER.publicKey()), Reason.POLICY, "1.0.0", "2.0.0");
  }

  @Test
  @DisplayName("oversized manifest")
  @Case(category = "integrity", fault = "the manifest URL serves 1 MiB (Content-Length announced)", outcome = "INTEGRITY (6) before the body is read")
  void oversizedManifest() {
    TestServer server = bench.https().route("/manifest.json", Routes.image(Bench.image(1 << 20, 6)));
    Device device = bench.device();
    OtaException e = Bench.failure(ManifestUpdater.of(source(), device.store, TrustedKeys.of(PUBLISHER.publicKey()))
        .update(URI.create(server.url("/manifest.json"))));
    assertThat(e.reason()).isEqualTo(Reason.INTEGRITY);
    Sentence.check(e.getMessage(), "manifest", "at most");
    device.assertUnchanged();
  }

  @Test
  @DisplayName("manifest without a trusted key")
  @Case(category = "integrity", fault = "a signed manifest, and the device trusts no key (no explicit opt-out)", outcome = "USAGE (2) naming --trusted-key, before the manifest is fetched")
  void manifestWithoutATrustedKey() {
    TestServer server = serving(signed(PUBLISHER));
    OtaException e = manifestFails(bench.device(), server, TrustedKeys.of(), Reason.USAGE, "--trusted-key",
        "--no-signature-check");
    assertThat(e.detail()).isEqualTo(OtaException.Detail.SIGNATURE_CHECK_REQUIRED);
    assertThat(server.requests()).isEmpty();
  }

  @Test
  @DisplayName("manifest URL the JDK parser trips on")
  @Case(category = "integrity", fault = "a manifest whose url is https://[::1.9223372036854775807.]/fw.bin", outcome = "INTEGRITY (6) with a sentence, not an internal error")
  void manifestUrlOutOfRange() {
    String valid = signed(PUBLISHER);
    String broken = valid.replace("\"fw.bin\"", "\"https://[::1.9223372036854775807.]/fw.bin\"");
    assertThat(broken).isNotEqualTo(valid);
    TestServer server = bench.https().route("/fw.bin", Routes.image(image)).route("/manifest.json", json(broken));
    manifestFails(bench.device(), server, TrustedKeys.of(PUBLISHER.publicKey()), Reason.INTEGRITY, "url");
    assertThat(server.requests()).extracting(TestServer.Recorded::path).doesNotContain("/fw.bin");
  }
}
