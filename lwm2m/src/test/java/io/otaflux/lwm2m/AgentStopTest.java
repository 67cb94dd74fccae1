package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.spi.SlotStore;
import io.otaflux.storage.FileSlotStore;

import org.eclipse.leshan.core.ResponseCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * How an agent starts and stops: {@link Lwm2mAgent#startAsync()} does not block and the
 * registration is reported by events; what {@link Lwm2mAgent#stop()} reports matches what a real
 * Leshan server saw ({@code Deregistered} only for a deregistration the server answered, else
 * {@code DeregistrationFailed}); after it no thread of the agent remains.
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

  /** {@code store}, but its status is answered only once {@code gate} completes: a slow store at start. */
  private static SlotStore gated(SlotStore store, Sinks.Empty<Void> gate) {
    return (SlotStore) Proxy.newProxyInstance(SlotStore.class.getClassLoader(), new Class<?>[] {SlotStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("status")) {
            return gate.asMono().then(store.status());
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Test
  void startAsyncReturnsAtOnceWhileTheStoreIsReadAndTheRegistrationIsReportedByEvents() {
    FileSlotStore file = FileSlotStore.init(dir.resolve("slow"), Fixtures.SLOT_SIZE);
    // an update executed before the agent stopped: starting reads the store to judge it (here: rolled back)
    new PendingUpdate(SlotId.B, Sha256.digest(new byte[] {1}), "gw-2.bin", "2.0.0")
        .write(dir.resolve("lwm2m-agent.properties"));
    Sinks.Empty<Void> gate = Sinks.empty();
    Lwm2mAgent agent = Fixtures.agent(dm, "slow-store", file, dir).store(gated(file, gate)).build();
    try {
      AtomicBoolean started = new AtomicBoolean();
      Mono<Void> starting = agent.startAsync();
      assertThat(dm.isRegistered("slow-store")).as("nothing before it is subscribed").isFalse();
      starting.subscribe(v -> { }, e -> { }, () -> started.set(true));
      assertThat(started).as("subscribe returned while the store is being read").isFalse();

      gate.tryEmitEmpty();
      AgentEvent.Registered registered = agent.events().ofType(AgentEvent.Registered.class)
          .blockFirst(DmServer.TIMEOUT);
      assertThat(registered.endpoint()).isEqualTo("slow-store");
      assertThat(started).isTrue();
      assertThat(agent.result()).as("the store was read before the client started").isEqualTo(FirmwareResult.UPDATE_FAILED);
      assertThat(dm.isRegistered("slow-store")).isTrue();
    } finally {
      agent.stop();
    }
  }

  @Test
  void anAgentStartsOnceAndAStoppedAgentDoesNotStartAgain() {
    Lwm2mAgent agent = Fixtures.agent(dm, "once", FileSlotStore.init(dir.resolve("once"), Fixtures.SLOT_SIZE), dir)
        .build();
    StepVerifier.create(agent.startAsync()).verifyComplete();
    StepVerifier.create(agent.startAsync())
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(OtaException.Reason.USAGE))
        .verify(DmServer.TIMEOUT);
    agent.stop();
    StepVerifier.create(agent.startAsync())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("was stopped"))
        .verify(DmServer.TIMEOUT);
  }

  /** The names our agent's threads, Leshan's and Californium's have (none is the server's: it started before). */
  private static boolean agentThread(Thread t) {
    String name = t.getName();
    return name.startsWith("otaflux-lwm2m") || name.startsWith("CoapServer") || name.startsWith("DTLS-")
        || name.startsWith("RegistrationEngine") || name.startsWith("Leshan");
  }

  private static Set<Thread> threads() {
    return Thread.getAllStackTraces().keySet();
  }

  @Test
  void afterStopNoThreadOfTheAgentRemains() throws Exception {
    Set<Thread> before = threads();
    FileSlotStore store = FileSlotStore.init(dir.resolve("threads"), Fixtures.SLOT_SIZE);
    Fixtures.Reboots reboots = new Fixtures.Reboots();
    Lwm2mAgent agent = Fixtures.agent(dm, "threads", store, dir).rebootHook(reboots).build();
    agent.start();
    dm.device("threads").awaitRegistration(1);
    // work for every scheduler: the reboot hook on the work threads, polling on the timer, a refusal
    assertThat(dm.executeReboot("threads").getCode()).isEqualTo(ResponseCode.CHANGED);
    reboots.await(1);
    assertThat(dm.writePackageUri("threads", "http://example.com/fw.bin").getCode()).isEqualTo(ResponseCode.CHANGED);
    List<String> running = threads().stream().filter(t -> !before.contains(t) && agentThread(t))
        .map(Thread::getName).collect(Collectors.toList());
    assertThat(running).as("the agent's threads while it runs").anyMatch(n -> n.startsWith("otaflux-lwm2m-threads-"))
        .anyMatch(n -> n.startsWith("DTLS-"));

    agent.stop();
    // executors end their threads once shut down, not at once: wait (at most 10 s) for them to go
    Flux.interval(Duration.ofMillis(50)).takeUntil(tick -> left(before).isEmpty()).take(Duration.ofSeconds(10))
        .blockLast();
    assertThat(left(before)).as("threads left after stop()").isEmpty();
  }

  private static List<String> left(Set<Thread> before) {
    return threads().stream().filter(t -> !before.contains(t) && agentThread(t) && t.isAlive()).map(Thread::getName)
        .collect(Collectors.toList());
  }
}
