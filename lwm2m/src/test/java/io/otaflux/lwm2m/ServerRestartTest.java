package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import io.otaflux.storage.FileSlotStore;

import org.junit.jupiter.api.AfterEach;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Agents outlive their server: after a restart that forgot every registration, they register again. */
class ServerRestartTest {

  @TempDir
  Path dir;

  private final List<Lwm2mAgent> agents = new ArrayList<>();
  private DmServer dm;
  private @Nullable ScheduledExecutorService coap;

  @AfterEach
  void stop() {
    agents.forEach(Lwm2mAgent::stop);
    if (dm != null) {
      dm.close();
    }
    if (coap != null) {
      coap.shutdownNow();
    }
  }

  /** With {@code sharedCoap}, Californium runs on one executor shared by the agents (coapExecutor). */
  @ParameterizedTest(name = "Californium on a shared executor: {0}")
  @ValueSource(booleans = {false, true})
  void agentsRegisterAgainWhenTheServerRestartedAndForgotThem(boolean sharedCoap) throws Exception {
    dm = DmServer.start();
    if (sharedCoap) {
      coap = Executors.newScheduledThreadPool(1);
    }
    List<String> names = List.of("restart-a", "restart-b", "restart-c");
    for (String name : names) {
      FileSlotStore store = FileSlotStore.init(dir.resolve(name), Fixtures.SLOT_SIZE);
      // a 5 s lifetime: Leshan updates the registration every ~1.5 s
      Lwm2mAgent.Builder builder = Fixtures.agent(dm, name, store, dir.resolve(name)).lifetime(Duration.ofSeconds(5));
      Lwm2mAgent agent = (coap == null ? builder : builder.coapExecutor(coap)).build();
      agents.add(agent);
      agent.start();
    }
    List<String> before = new ArrayList<>();
    for (String name : names) {
      before.add(dm.device(name).awaitRegistration(1));
    }

    dm.restart();
    for (String name : names) {
      assertThat(dm.isRegistered(name)).isFalse();
    }
    for (String name : names) {
      String again = dm.device(name).awaitRegistration(2);
      assertThat(again).isNotIn(before);
      assertThat(dm.isRegistered(name)).isTrue();
      assertThat(dm.read(name, "/5/0/3")).isEqualTo(0L);
    }
    for (Lwm2mAgent agent : agents) {
      assertThat(agent.events().ofType(AgentEvent.Registered.class).take(2).collectList().block(DmServer.TIMEOUT))
          .hasSize(2);
    }
  }

  @ParameterizedTest(name = "Californium on a shared executor: {0}")
  @ValueSource(booleans = {false, true})
  void anAgentStartedBeforeItsServerRegistersOnceTheServerIsUp(boolean sharedCoap) throws Exception {
    if (sharedCoap) {
      coap = Executors.newScheduledThreadPool(1); // the client is stopped and started again between tries
    }
    DmServer probe = DmServer.start();
    java.net.URI uri = probe.coapsUri();
    probe.close(); // a port with nobody behind it, for now
    FileSlotStore store = FileSlotStore.init(dir.resolve("early"), Fixtures.SLOT_SIZE);
    Lwm2mAgent.Builder builder = Fixtures.agent(probe, "early", store, dir).server(uri)
        .requestTimeout(Duration.ofSeconds(1)).registrationBackoff(Duration.ofMillis(200), Duration.ofSeconds(1));
    Lwm2mAgent agent = (coap == null ? builder : builder.coapExecutor(coap)).build();
    agents.add(agent);
    agent.start();
    AgentEvent.Failed failed = agent.events().ofType(AgentEvent.Failed.class).blockFirst(DmServer.TIMEOUT);
    assertThat(failed.message()).contains("trying again with backoff");

    dm = DmServer.startOn(uri.getPort());
    dm.addPsk("early", "early", Fixtures.key("early"));
    assertThat(dm.device("early").awaitRegistration(1)).isNotNull();
  }
}
