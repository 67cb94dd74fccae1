package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.eclipse.leshan.core.ResponseCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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

  @TempDir
  Path dir;

  private final List<Lwm2mAgent> agents = new ArrayList<>();

  @BeforeAll
  static void servers() {
    dm = DmServer.start();
    https = TestServer.https(TestPki.shared().localhost());
    image = Fixtures.image(200 * 1024 + 17, 2);
    https.route("/fw-2.bin", Routes.image(image));
    imageUrl = https.url("/fw-2.bin");
  }

  @AfterAll
  static void stopServers() {
    https.close();
    dm.close();
  }

  @AfterEach
  void stopAgents() {
    agents.forEach(Lwm2mAgent::stop);
  }

  private Lwm2mAgent started(Lwm2mAgent.Builder builder) {
    Lwm2mAgent agent = builder.build();
    agents.add(agent);
    agent.start();
    return agent;
  }

  private FileSlotStore store(String name) {
    return FileSlotStore.init(dir.resolve(name), Fixtures.SLOT_SIZE);
  }

  @Test
  void registersOverDtlsWithItsPreSharedKeyAndShowsItsDevice() throws Exception {
    FileSlotStore store = store("s");
    Lwm2mAgent agent = started(Fixtures.agent(dm, "psk-1", store, dir));
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
  void aWrongKeyIsRefusedWhileTheRightKeyRegisters() throws Exception {
    FileSlotStore good = store("good");
    FileSlotStore bad = store("bad");
    dm.addPsk("wrong-key", "wrong-key", Fixtures.key("wrong-key"));
    Lwm2mAgent intruder = started(Fixtures.agent(dm, "wrong-key", bad, dir.resolve("bad"))
        .psk("wrong-key", Fixtures.key("another-key")));
    started(Fixtures.agent(dm, "right-key", good, dir.resolve("good")));
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
    started(Fixtures.agent(dm, "happy", store, dir).rebootHook(reboots));
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
    assertThat(reboots.at).hasSize(1);
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
}
