package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import io.otaflux.Sha256;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.eclipse.leshan.core.ResponseCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every failure's Update Result, by the contract's table, with the store and the boot choice as
 * they were: 2 too large, 4 connection lost, 5 integrity, 7 invalid URI or HTTP error, 8 trust,
 * 9 not https (also by redirect).
 */
class UpdateResultCodesTest {

  private static DmServer dm;
  private static TestServer https;
  private static TestServer untrusted;
  private static TestServer plain;
  private static byte[] image;
  private static SigningKey publisher;

  @TempDir
  Path dir;

  @RegisterExtension
  final Agents agents = new Agents();

  @BeforeAll
  static void servers() {
    dm = DmServer.start();
    image = Fixtures.image(150 * 1024 + 3, 5);
    publisher = SigningKey.generate();
    https = TestServer.https(TestPki.shared().localhost());
    https.route("/fw.bin", Routes.image(image));
    https.route("/cut.bin", Routes.image(image).cutFirstAt(40_000));
    https.route("/big.bin", Routes.image(Fixtures.image(300 * 1024, 6)));
    https.route("/missing.bin", Routes.status(404, java.util.Map.of()));
    plain = TestServer.plainHttp();
    plain.route("/fw.bin", Routes.image(image));
    https.route("/to-http.bin", Routes.redirect(302, plain.url("/fw.bin")));
    Manifest wrongDigest = Manifest.builder().version("2.0.0").url(https.url("/fw.bin"))
        .image(image.length, Sha256.digest(new byte[] {1, 2, 3})).sign(publisher);
    https.route("/wrong-digest.json", Routes.image(wrongDigest.json().getBytes(StandardCharsets.UTF_8)));
    Manifest strangeKey = Manifest.builder().version("2.0.0").url(https.url("/fw.bin"))
        .image(image).sign(SigningKey.generate());
    https.route("/strange-key.json", Routes.image(strangeKey.json().getBytes(StandardCharsets.UTF_8)));
    untrusted = TestServer.https(TestPki.shared().unrelatedLocalhost());
    untrusted.route("/fw.bin", Routes.image(image));
  }

  @AfterAll
  static void stopServers() {
    https.close();
    untrusted.close();
    plain.close();
    dm.close();
  }


  /** Registers a fresh agent, writes the URI, waits for the result; returns what the server saw. */
  private DmServer.Device fail(String endpoint, String uri, long expected, long slotSize,
      UnaryOperator<Lwm2mAgent.Builder> options) throws Exception {
    FileSlotStore store = FileSlotStore.init(dir.resolve(endpoint), slotSize);
    Lwm2mAgent agent = agents.start(options.apply(Fixtures.agent(dm, endpoint, store, dir.resolve(endpoint))
        .manifests(Fixtures.manifests(store, TrustedKeys.of(publisher.publicKey())))));
    DmServer.Device device = dm.device(endpoint);
    device.awaitRegistration(1);
    dm.observeFirmware(endpoint);
    assertThat(dm.writePackageUri(endpoint, uri).getCode()).isEqualTo(ResponseCode.CHANGED);
    device.awaitResult(expected);
    assertThat(agent.state()).isEqualTo(FirmwareState.IDLE);
    assertThat(device.results).containsExactly(0L, expected);
    if (device.states.contains(1L)) {
      // State and Result are two notifications: wait for the State 0 after the download's 1
      device.stateSink.asFlux().skipUntil(s -> s == 1L).filter(s -> s == 0L).blockFirst(DmServer.TIMEOUT);
    }
    if (device.states.contains(1L)) {
      assertThat(device.states).containsExactly(0L, 1L, 0L);
    } else {
      // a download refused at once (no request made) may end before its State 1 notification is
      // read: CoAP observe sends the current value (RFC 7641), so that notification says 0 too
      assertThat(device.states).isNotEmpty().containsOnly(0L);
    }
    Fixtures.assertAsItWas(store);
    return device;
  }

  private DmServer.Device fail(String endpoint, String uri, long expected) throws Exception {
    return fail(endpoint, uri, expected, Fixtures.SLOT_SIZE, b -> b);
  }

  @Test
  void anImageLargerThanTheSlotIs2() throws Exception {
    DmServer.Device device = fail("too-large", https.url("/big.bin"), 2, 256 * 1024, b -> b);
    // State 1 is notified; CoAP observe sends the value current when the notification goes out, so a
    // refusal within milliseconds may show as 0 there (see fail(...))
    assertThat(device.states).first().isEqualTo(0L);
    assertThat(device.states).last().isEqualTo(0L);
    assertThat(device.states).containsOnly(0L, 1L);
  }

  /** Failures with nothing more to check than their code; the server is the trusted one unless named. */
  @ParameterizedTest(name = "{0} is Update Result {4}")
  @CsvSource({
      "a connection lost after the retries, cut, https, /cut.bin, 4",
      "a digest that differs from the manifest, wrong-digest, https, /wrong-digest.json, 5",
      "a manifest signed by an untrusted key, strange-key, https, /strange-key.json, 5",
      "an HTTP error, missing, https, /missing.bin, 7",
      "an untrusted server, untrusted, untrusted, /fw.bin, 8"})
  void eachFailureHasItsResultCode(String what, String endpoint, String server, String path, long code)
      throws Exception {
    fail(endpoint, (server.equals("untrusted") ? untrusted : https).url(path), code);
  }

  @Test
  void aManifestWithoutAnyTrustedKeyIsRefusedAs5AndNothingIsFetched() throws Exception {
    int before = https.requests().size();
    fail("no-key", https.url("/strange-key.json"), 5, Fixtures.SLOT_SIZE,
        b -> b.manifests(Fixtures.manifests(FileSlotStore.open(dir.resolve("no-key")), TrustedKeys.of())));
    fail("no-manifests", https.url("/strange-key.json"), 5, Fixtures.SLOT_SIZE, b -> Fixtures.agent(dm, "no-manifests",
        FileSlotStore.open(dir.resolve("no-manifests")), dir.resolve("no-manifests")));
    assertThat(https.requests().size()).as("nothing fetched").isEqualTo(before);
  }

  @Test
  void anInvalidUriIs7AndNothingStarts() throws Exception {
    DmServer.Device device = fail("invalid-uri", "https://exa mple.com/fw.bin", 7);
    assertThat(device.states).containsExactly(0L);
  }

  @Test
  void aPlainHttpUriIs9AndNothingIsFetched() throws Exception {
    int before = plain.requests().size();
    DmServer.Device device = fail("plain-http", plain.url("/fw.bin"), 9);
    assertThat(device.states).containsExactly(0L);
    assertThat(plain.requests()).hasSize(before);
  }

  @Test
  void aRedirectToPlainHttpIs9AndTheHttpServerGetsNothing() throws Exception {
    int before = plain.requests().size();
    fail("to-http", https.url("/to-http.bin"), 9);
    assertThat(plain.requests()).hasSize(before);
  }
}
