package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
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

/**
 * The agent against a real Leshan server on loopback, a real HTTPS firmware server and real file
 * stores: registration, the happy path, Update in the wrong state, confirmation and rollback,
 * restarts of the agent.
 */
class Lwm2mAgentTest {

  private static DmServer dm;
  private static TestServer https;
  private static byte[] image;
  private static String imageUrl;
  private static SigningKey publisher;
  private static final byte[] old = Fixtures.image(50 * 1024, 1);

  @TempDir
  Path dir;

  @RegisterExtension
  final Agents agents = new Agents();

  @BeforeAll
  static void servers() {
    dm = DmServer.start();
    https = TestServer.https(TestPki.shared().localhost());
    image = Fixtures.image(200 * 1024 + 17, 2);
    https.route("/fw-2.bin", Routes.image(image));
    https.route("/stalls.bin", Routes.image(image).stallFirstAt(100_000));
    https.route("/fw-next.bin", Routes.image(Fixtures.image(30 * 1024, 3)));
    https.route("/stalls-once.bin", Routes.image(image).stallFirstAt(120_000));
    imageUrl = https.url("/fw-2.bin");
    publisher = SigningKey.generate();
    Manifest v2 = Manifest.builder().version("2.0.0").url(imageUrl).image(image).sign(publisher);
    https.route("/gw-2.0.0.json", Routes.image(v2.json().getBytes(StandardCharsets.UTF_8)));
    Manifest v1 = Manifest.builder().version("1.0.0").url(https.url("/fw-1.bin")).image(old).sign(publisher);
    https.route("/fw-1.bin", Routes.image(old));
    https.route("/gw-1.0.0.json", Routes.image(v1.json().getBytes(StandardCharsets.UTF_8)));
  }

  @AfterAll
  static void stopServers() {
    https.close();
    dm.close();
  }

  private FileSlotStore store(String name) {
    return FileSlotStore.init(dir.resolve(name), Fixtures.SLOT_SIZE);
  }

  @Test
  void registersOverDtlsWithItsPreSharedKeyAndShowsItsDevice() throws Exception {
    FileSlotStore store = store("s");
    Lwm2mAgent agent = agents.start(Fixtures.agent(dm, "psk-1", store, dir));
    AgentEvent.Registered registered = agent.events().ofType(AgentEvent.Registered.class).blockFirst(DmServer.TIMEOUT);
    assertThat(registered.endpoint()).isEqualTo("psk-1");
    assertThat(dm.registration("psk-1").getClientTransportData().toString()).contains("psk-1");
    assertThat(dm.read("psk-1", "/3/0/0")).isEqualTo("OtaFlux");
    assertThat(dm.read("psk-1", "/3/0/2")).isEqualTo("psk-1");
    assertThat(dm.read("psk-1", "/3/0/3")).isEqualTo("");
    assertThat(dm.read("psk-1", "/5/0/3")).isEqualTo(0L);
    assertThat(dm.read("psk-1", "/5/0/5")).isEqualTo(0L);
    assertThat(dm.read("psk-1", "/5/0/9")).isEqualTo(0L);
    assertThat(dm.read("psk-1", "/5/0/8").toString()).contains("value=3");
    assertThat(agent.toString()).doesNotContain(new String(Fixtures.key("psk-1"), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void anUpperCaseCoapsServerIsConfiguredWithDtlsAndRegisters() throws Exception {
    FileSlotStore store = store("upper");
    java.net.URI upper = java.net.URI.create(dm.coapsUri().toString().replace("coaps://", "COAPS://"));
    Lwm2mAgent agent = agents.start(Fixtures.agent(dm, "upper-1", store, dir).server(upper));
    assertThat(agent.server().getScheme()).isEqualTo("coaps");
    AgentEvent.Registered registered = agent.events().ofType(AgentEvent.Registered.class).blockFirst(DmServer.TIMEOUT);
    assertThat(registered).isNotNull();
    assertThat(dm.registration("upper-1").getClientTransportData().toString()).contains("upper-1");
  }

  @Test
  void aWrongKeyIsRefusedWhileTheRightKeyRegisters() throws Exception {
    FileSlotStore good = store("good");
    FileSlotStore bad = store("bad");
    dm.addPsk("wrong-key", "wrong-key", Fixtures.key("wrong-key"));
    Lwm2mAgent intruder = agents.start(Fixtures.agent(dm, "wrong-key", bad, dir.resolve("bad"))
        .psk("wrong-key", Fixtures.key("another-key")));
    agents.start(Fixtures.agent(dm, "right-key", good, dir.resolve("good")));
    dm.device("right-key").awaitRegistration(1);
    AgentEvent.Failed failed = intruder.events().ofType(AgentEvent.Failed.class).blockFirst(Duration.ofSeconds(15));
    assertThat(failed.message()).contains("Registration").doesNotContain("another-key");
    assertThat(dm.isRegistered("wrong-key")).isFalse();
    assertThat(dm.isRegistered("right-key")).isTrue();
  }

  @Test
  void theHappyPathGoesThroughStates1230AndResult1OnceConfirmed() throws Exception {
    FileSlotStore store = store("s");
    Fixtures.Reboots reboots = new Fixtures.Reboots();
    agents.start(Fixtures.agent(dm, "happy", store, dir).rebootHook(reboots));
    DmServer.Device device = dm.device("happy");
    device.awaitRegistration(1);
    dm.observeFirmware("happy");

    assertThat(dm.writePackageUri("happy", imageUrl).getCode()).isEqualTo(ResponseCode.CHANGED);
    device.awaitState(2);
    StoreStatus downloaded = store.status().block();
    assertThat(downloaded.next()).as("downloaded, not activated").isEqualTo(SlotId.A);
    assertThat(downloaded.slot(SlotId.B).digest()).contains(Sha256.digest(image));

    assertThat(dm.executeUpdate("happy").getCode()).isEqualTo(ResponseCode.CHANGED);
    device.awaitState(0);
    device.stateSink.asFlux().skip(4).blockFirst(DmServer.TIMEOUT);
    assertThat(device.states).containsExactly(0L, 1L, 2L, 3L, 0L);
    reboots.await(1); // the hook runs once the slot is the boot choice and State is 0
    assertThat(reboots.at).hasSize(1);
    assertThat(reboots.threads).as("never on Californium's threads").allMatch(t -> t.startsWith("otaflux-lwm2m"));
    assertThat(store.status().block().next()).isEqualTo(SlotId.B);
    assertThat(device.results).containsExactly(0L);

    // the "reboot": the boot script boots the trial, the new firmware confirms itself
    assertThat(store.boot().block()).isEqualTo(SlotId.B);
    store.markGood().block();
    device.awaitResult(1);
    assertThat(device.results).containsExactly(0L, 1L);
    StoreStatus confirmed = store.status().block();
    assertThat(confirmed.active()).isEqualTo(SlotId.B);
    assertThat(confirmed.slot(SlotId.B).state()).isEqualTo(SlotState.GOOD);
    assertThat(confirmed.slot(SlotId.B).digest()).contains(Sha256.digest(image));
  }

  /** Registers, observes, and leaves the device waiting for a Package URI. */
  private DmServer.Device registered(String endpoint, int registration) throws Exception {
    DmServer.Device device = dm.device(endpoint);
    device.awaitRegistration(registration);
    dm.observeFirmware(endpoint);
    return device;
  }

  /** Waits until the firmware server was asked for {@code path} {@code n} times. */
  private static void awaitRequests(String path, int n) {
    reactor.core.publisher.Flux.interval(Duration.ofMillis(20))
        .filter(t -> https.requests().stream().filter(r -> r.path().equals(path)).count() >= n)
        .blockFirst(DmServer.TIMEOUT);
  }

  /** The server has the agent download the URI, then runs Update: the image is the trial slot's. */
  private static void downloadAndUpdate(DmServer.Device device, String endpoint, String uri) throws Exception {
    dm.writePackageUri(endpoint, uri);
    device.awaitState(2);
    dm.executeUpdate(endpoint);
    awaitStateAfter(device, 3, 0);
  }

  private static void awaitStateAfter(DmServer.Device device, long first, long then) {
    device.stateSink.asFlux().skipUntil(s -> s == first).filter(s -> s == then).blockFirst(DmServer.TIMEOUT);
  }

  @Test
  void anEmptyPackageUriCancelsASlowDownloadAndLeavesTheStoreAsItWas() throws Exception {
    FileSlotStore store = store("s");
    Lwm2mAgent agent = agents.start(Fixtures.agent(dm, "cancel", store, dir));
    DmServer.Device device = registered("cancel", 1);
    assertThat(dm.writePackageUri("cancel", https.url("/stalls.bin")).getCode()).isEqualTo(ResponseCode.CHANGED);
    device.awaitState(1);
    awaitRequests("/stalls.bin", 1);
    assertThat(dm.executeUpdate("cancel").getCode()).as("Update while downloading")
        .isEqualTo(ResponseCode.METHOD_NOT_ALLOWED);
    assertThat(dm.writePackageUri("cancel", imageUrl).getCode()).as("another URI while downloading")
        .isEqualTo(ResponseCode.METHOD_NOT_ALLOWED);

    assertThat(dm.writePackageUri("cancel", "").getCode()).isEqualTo(ResponseCode.CHANGED);
    awaitStateAfter(device, 1, 0);
    assertThat(device.states).containsExactly(0L, 1L, 0L);
    assertThat(device.results).containsExactly(0L);
    assertThat(agent.result()).isEqualTo(FirmwareResult.INITIAL);
    Fixtures.assertAsItWas(store);
    assertThat(dm.read("cancel", "/5/0/1")).isEqualTo("");
  }

  @Test
  void updateInTheWrongStateIsMethodNotAllowedAndAPushedPackageIsABadRequest() throws Exception {
    FileSlotStore store = store("s");
    agents.start(Fixtures.agent(dm, "wrong-state", store, dir));
    DmServer.Device device = registered("wrong-state", 1);
    assertThat(dm.executeUpdate("wrong-state").getCode()).isEqualTo(ResponseCode.METHOD_NOT_ALLOWED);
    assertThat(dm.writePackage("wrong-state", new byte[] {1, 2, 3}).getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
    assertThat(device.states).containsExactly(0L);
    assertThat(device.results).containsExactly(0L);
    Fixtures.assertAsItWas(store);
  }

  @Test
  void anAgentRestartedInTheMiddleOfADownloadStartsCleanAndFinishesTheUpdate() throws Exception {
    FileSlotStore store = store("s");
    Lwm2mAgent first = agents.start(Fixtures.agent(dm, "restart-download", store, dir));
    DmServer.Device device = registered("restart-download", 1);
    dm.writePackageUri("restart-download", https.url("/stalls-once.bin"));
    device.awaitState(1);
    awaitRequests("/stalls-once.bin", 1);
    agents.stop(first);
    Fixtures.assertAsItWas(store);

    agents.start(Fixtures.agent(dm, "restart-download", store, dir));
    registered("restart-download", 2);
    assertThat(dm.read("restart-download", "/5/0/3")).as("a new agent starts idle").isEqualTo(0L);
    dm.writePackageUri("restart-download", https.url("/stalls-once.bin"));
    awaitStateAfter(device, 1, 2);
    dm.executeUpdate("restart-download");
    awaitStateAfter(device, 3, 0);
    store.boot().block();
    store.markGood().block();
    device.awaitResult(1);
    // the first agent reports its abort (0) before it deregisters; the second starts at 0
    assertThat(device.states).containsExactly(0L, 1L, 0L, 0L, 1L, 2L, 3L, 0L);
    assertThat(device.results).containsExactly(0L, 0L, 1L);
    assertThat(store.status().block().slot(SlotId.B).digest()).contains(Sha256.digest(image));
  }

  @Test
  void anAgentRestartedAfterUpdateReportsResult1OnceTheSlotWasConfirmed() throws Exception {
    FileSlotStore store = store("s");
    Fixtures.Reboots reboots = new Fixtures.Reboots();
    Lwm2mAgent first = agents.start(Fixtures.agent(dm, "restart-update", store, dir).rebootHook(reboots));
    DmServer.Device device = registered("restart-update", 1);
    downloadAndUpdate(device, "restart-update", imageUrl);
    reboots.await(1);
    agents.stop(first); // the gateway reboots
    assertThat(store.boot().block()).isEqualTo(SlotId.B);
    store.markGood().block();

    Lwm2mAgent second = agents.start(Fixtures.agent(dm, "restart-update", store, dir));
    assertThat(second.result()).isEqualTo(FirmwareResult.SUCCESS);
    registered("restart-update", 2);
    assertThat(device.states).containsExactly(0L, 1L, 2L, 3L, 0L, 0L);
    assertThat(device.results).containsExactly(0L, 1L);
    assertThat(dm.read("restart-update", "/5/0/5")).isEqualTo(1L);
    assertThat(dir.resolve("lwm2m-agent.properties")).doesNotExist();
  }

  @Test
  void aRollbackIsReportedAsResult8() throws Exception {
    FileSlotStore store = store("s");
    agents.start(Fixtures.agent(dm, "rollback", store, dir));
    DmServer.Device device = registered("rollback", 1);
    downloadAndUpdate(device, "rollback", imageUrl);
    assertThat(store.boot().block()).isEqualTo(SlotId.B);
    assertThat(store.rollback().block()).isEqualTo(SlotId.A);
    device.awaitResult(8);
    assertThat(device.states).containsExactly(0L, 1L, 2L, 3L, 0L);
    assertThat(device.results).containsExactly(0L, 8L);
  }

  @Test
  void aPackageUriDuringAnUnconfirmedTrialIsRefusedWith8AndTheTrialsResult1StillComes() throws Exception {
    FileSlotStore store = FileSlotStore.init(dir.resolve("s"), Fixtures.SLOT_SIZE);
    agents.start(Fixtures.agent(dm, "trial-busy", store, dir));
    DmServer.Device device = registered("trial-busy", 1);
    downloadAndUpdate(device, "trial-busy", imageUrl);
    assertThat(store.boot().block()).isEqualTo(SlotId.B); // the trial runs, unconfirmed
    StoreStatus before = store.status().block();
    byte[] goodSlot = java.nio.file.Files.readAllBytes(store.slotPath(SlotId.A));
    byte[] bootState = java.nio.file.Files.readAllBytes(dir.resolve("s").resolve("boot-state"));
    long fetched = https.requests().stream().filter(r -> r.path().equals("/fw-next.bin")).count();

    assertThat(dm.writePackageUri("trial-busy", https.url("/fw-next.bin")).getCode()).isEqualTo(ResponseCode.CHANGED);
    device.awaitResult(8);
    assertThat(store.status().block()).isEqualTo(before);
    assertThat(java.nio.file.Files.readAllBytes(store.slotPath(SlotId.A))).as("the good slot").isEqualTo(goodSlot);
    assertThat(java.nio.file.Files.readAllBytes(dir.resolve("s").resolve("boot-state"))).isEqualTo(bootState);
    assertThat(https.requests().stream().filter(r -> r.path().equals("/fw-next.bin")).count()).isEqualTo(fetched);
    assertThat(dir.resolve("lwm2m-agent.properties")).as("the pending update is kept").exists();

    store.markGood().block(); // the trial's health check passes: its Update Result is still reported
    device.awaitResult(1);
    assertThat(device.results).containsExactly(0L, 8L, 1L);
  }

  @Test
  void aSignedManifestNamesThePackageAndTheFirmwareVersionAndADowngradeIsRefusedWith8() throws Exception {
    FileSlotStore store = store("s");
    agents.start(Fixtures.agent(dm, "manifest", store, dir)
        .manifests(Fixtures.manifests(store, TrustedKeys.of(publisher.publicKey()))));
    DmServer.Device device = registered("manifest", 1);
    dm.writePackageUri("manifest", https.url("/gw-2.0.0.json"));
    device.awaitState(2);
    assertThat(dm.read("manifest", "/5/0/6")).isEqualTo("fw-2.bin");
    assertThat(dm.read("manifest", "/5/0/7")).isEqualTo("2.0.0");
    dm.executeUpdate("manifest");
    awaitStateAfter(device, 3, 0);
    store.boot().block();
    store.markGood().block();
    device.awaitResult(1);
    dm.device("manifest");
    reactor.core.publisher.Flux.interval(Duration.ofMillis(50))
        .filter(t -> {
          try {
            return "2.0.0".equals(dm.read("manifest", "/3/0/3"));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }).blockFirst(DmServer.TIMEOUT);

    dm.writePackageUri("manifest", https.url("/gw-1.0.0.json"));
    device.awaitResult(8);
    assertThat(device.results).containsExactly(0L, 1L, 0L, 8L);
    StoreStatus status = store.status().block();
    assertThat(status.active()).isEqualTo(SlotId.B);
    assertThat(status.next()).isEqualTo(SlotId.B);
    assertThat(status.slot(SlotId.B).version()).isEqualTo("2.0.0");
  }

  /** A store whose running, confirmed slot holds {@code version} of {@code image}. */
  private FileSlotStore running(String name, String version) {
    FileSlotStore store = store(name);
    io.otaflux.OtaUpdater.create().source(Fixtures.source()).store(store)
        .update(io.otaflux.UpdateRequest.of(imageUrl).withVersion(version)).blockLast(DmServer.TIMEOUT);
    store.boot().then(store.markGood()).block(DmServer.TIMEOUT);
    return store;
  }

  @Test
  void aManifestOfferingADowngradeEndsWithResult8AndNothingIsDownloadedOrWritten() throws Exception {
    FileSlotStore store = running("s", "2.0.0");
    StoreStatus before = store.status().block();
    agents.start(Fixtures.agent(dm, "downgrade", store, dir)
        .manifests(Fixtures.manifests(store, TrustedKeys.of(publisher.publicKey()))));
    DmServer.Device device = registered("downgrade", 1);
    int imageRequests = (int) https.requests().stream().filter(r -> r.path().equals("/fw-1.bin")).count();
    dm.writePackageUri("downgrade", https.url("/gw-1.0.0.json"));
    device.awaitResult(8);
    assertThat(device.states).doesNotContain(2L);
    assertThat(https.requests().stream().filter(r -> r.path().equals("/fw-1.bin")).count()).isEqualTo(imageRequests);
    assertThat(store.status().block()).isEqualTo(before);
  }

  @Test
  void theAgentHonoursAManifestUpdaterThatAllowsDowngrades() throws Exception {
    FileSlotStore store = running("s", "2.0.0");
    agents.start(Fixtures.agent(dm, "allowed", store, dir)
        .manifests(Fixtures.manifests(store, TrustedKeys.of(publisher.publicKey())).allowDowngrade(true)));
    DmServer.Device device = registered("allowed", 1);
    dm.writePackageUri("allowed", https.url("/gw-1.0.0.json"));
    device.awaitState(2);
    assertThat(dm.read("allowed", "/5/0/7")).isEqualTo("1.0.0");
    assertThat(device.results).doesNotContain(8L);
    StoreStatus status = store.status().block();
    assertThat(status.slot(status.active().other()).version()).isEqualTo("1.0.0");
  }

  @Test
  void theManifestsCredentialsReachTheImageOnItsOriginWhateverTheHostsCaseAndNeverAnotherOrigin() throws Exception {
    try (TestServer elsewhere = TestServer.https(TestPki.shared().localhost())) {
      https.route("/cred/fw.bin", Routes.image(image));
      elsewhere.route("/cred/fw.bin", Routes.image(image));
      for (String where : List.of("same", "other")) {
        String imageAt = where.equals("same") ? https.url("/cred/fw.bin") : elsewhere.url("/cred/fw.bin");
        https.route("/cred/" + where + ".json", Routes.image(Manifest.builder().version("2.0.0").url(imageAt).image(image)
            .sign(publisher).json().getBytes(StandardCharsets.UTF_8)));
        FileSlotStore store = store(where);
        agents.start(Fixtures.agent(dm, "cred-" + where, store, dir)
            .manifests(Fixtures.manifests(store, TrustedKeys.of(publisher.publicKey()))));
        DmServer.Device device = registered("cred-" + where, 1);
        // the host written in another case than the manifest's image URL: the same origin
        String manifestAt = https.url("/cred/" + where + ".json").replace("https://localhost", "https://ops:s3cret@LocalHost");
        assertThat(manifestAt).contains("@LocalHost:");
        dm.writePackageUri("cred-" + where, manifestAt);
        device.awaitState(2);
      }
      TestServer.Recorded same = https.requests().stream().filter(r -> r.path().equals("/cred/fw.bin")).findFirst()
          .orElseThrow();
      assertThat(same.header("Authorization")).startsWith("Basic ");
      assertThat(elsewhere.requests()).isNotEmpty()
          .allSatisfy(r -> assertThat(r.header("Authorization")).isNull());
    }
  }

  @Test
  void theDevicesRebootRunsTheRebootHook() throws Exception {
    FileSlotStore store = store("s");
    Fixtures.Reboots reboots = new Fixtures.Reboots();
    agents.start(Fixtures.agent(dm, "reboot", store, dir).rebootHook(reboots));
    registered("reboot", 1);
    assertThat(dm.executeReboot("reboot").getCode()).isEqualTo(ResponseCode.CHANGED);
    reboots.await(1);
    assertThat(reboots.at).hasSize(1);
    assertThat(reboots.threads).allMatch(t -> t.startsWith("otaflux-lwm2m"));
  }
}
