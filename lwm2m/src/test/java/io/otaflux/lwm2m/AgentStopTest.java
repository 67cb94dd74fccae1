package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.otaflux.storage.FileSlotStore;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link Lwm2mAgent#stop()} reports matches what a real Leshan server saw: {@code Deregistered}
 * only for a deregistration the server answered, else {@code DeregistrationFailed}.
 */
class AgentStopTest {

  @TempDir
  Path dir;

  private DmServer dm;

  @BeforeEach
  void server() {
    dm = DmServer.start();
  }

  @AfterEach
  void close() {
    dm.close();
  }

  private Lwm2mAgent agent(String endpoint) {
    FileSlotStore store = FileSlotStore.init(dir.resolve(endpoint), Fixtures.SLOT_SIZE);
    return Fixtures.agent(dm, endpoint, store, dir.resolve(endpoint)).build();
  }

  @Test
  void stoppedRightAfterTheServerAnsweredTheRegistrationItDeregistersAndTheServerSeesIt() {
    for (int i = 0; i < 3; i++) {
      String endpoint = "stop-early-" + i;
      Lwm2mAgent agent = agent(endpoint);
      DmServer.Device device = dm.device(endpoint);
      device.onRegistered = agent::stop; // the instant the answer is sent, before the client may have read it
      agent.start();
      List<AgentEvent> events = agent.events()
          .filter(e -> e instanceof AgentEvent.Deregistered || e instanceof AgentEvent.DeregistrationFailed)
          .take(1).collectList().block(DmServer.TIMEOUT);
      assertThat(events).as(endpoint).singleElement().isInstanceOf(AgentEvent.Deregistered.class);
      assertThat(device.deregistrations.asFlux().blockFirst(DmServer.TIMEOUT)).isEqualTo("deregistered");
      assertThat(dm.isRegistered(endpoint)).as(endpoint + " still registered on the server").isFalse();
    }
  }

  @Test
  void aDeregistrationTheServerNeverAnsweredIsReportedAsFailedNotAsDeregistered() {
    Lwm2mAgent agent = agent("server-gone");
    agent.start();
    assertThat(dm.registrations("server-gone").blockFirst(DmServer.TIMEOUT)).isNotNull();
    agent.events().ofType(AgentEvent.Registered.class).blockFirst(DmServer.TIMEOUT);
    dm.close(); // the server goes away: the deregistration gets no answer
    agent.stop();
    List<AgentEvent> events = agent.events().take(Duration.ofMillis(200)).collectList().block(DmServer.TIMEOUT);
    assertThat(events).noneMatch(e -> e instanceof AgentEvent.Deregistered);
    assertThat(events).filteredOn(e -> e instanceof AgentEvent.DeregistrationFailed).singleElement()
        .satisfies(e -> assertThat(((AgentEvent.DeregistrationFailed) e).message())
            .contains("stopped without deregistering").contains("did not answer the deregistration")
            .contains("registration lifetime"));
    dm = DmServer.start(); // for close()
  }

  @Test
  void anAgentStoppedBeforeItEverRegisteredSaysSo() {
    Lwm2mAgent agent = Fixtures.agent(dm, "never", FileSlotStore.init(dir.resolve("never"), Fixtures.SLOT_SIZE),
        dir.resolve("never")).server(java.net.URI.create("coaps://127.0.0.1:9")).build();
    agent.start();
    agent.stop();
    List<AgentEvent> events = agent.events().take(Duration.ofMillis(200)).collectList().block(DmServer.TIMEOUT);
    assertThat(events).noneMatch(e -> e instanceof AgentEvent.Deregistered);
    assertThat(events).filteredOn(e -> e instanceof AgentEvent.DeregistrationFailed).singleElement()
        .satisfies(e -> assertThat(((AgentEvent.DeregistrationFailed) e).message()).contains("it was not registered"));
  }
}
