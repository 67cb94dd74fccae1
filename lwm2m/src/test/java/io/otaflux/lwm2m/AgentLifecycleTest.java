package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;
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

/** How an agent starts without blocking, and that it leaves no thread behind once stopped. */
class AgentLifecycleTest {

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

  /** A file store whose status is answered only once the gate opens: a slow store at start. */
  private static final class GatedStore implements SlotStore {
    final SlotStore store;
    final Sinks.Empty<Void> gate = Sinks.empty();

    GatedStore(SlotStore store) {
      this.store = store;
    }

    @Override
    public Mono<SlotWriter> openWriter(ImageSpec image) {
      return store.openWriter(image);
    }

    @Override
    public Mono<Void> activate(SlotId slot, Sha256 sha256) {
      return store.activate(slot, sha256);
    }

    @Override
    public Mono<SlotId> boot() {
      return store.boot();
    }

    @Override
    public Mono<Void> markGood() {
      return store.markGood();
    }

    @Override
    public Mono<SlotId> rollback() {
      return store.rollback();
    }

    @Override
    public Mono<StoreStatus> status() {
      return gate.asMono().then(store.status());
    }
  }

  @Test
  void startAsyncReturnsAtOnceWhileTheStoreIsReadAndTheRegistrationIsReportedByEvents() {
    FileSlotStore file = FileSlotStore.init(dir.resolve("slow"), Fixtures.SLOT_SIZE);
    // an update executed before the agent stopped: starting reads the store to judge it (here: rolled back)
    new PendingUpdate(SlotId.B, Sha256.digest(new byte[] {1}), "gw-2.bin", "2.0.0")
        .write(dir.resolve("lwm2m-agent.properties"));
    GatedStore store = new GatedStore(file);
    Lwm2mAgent agent = Fixtures.agent(dm, "slow-store", file, dir).store(store).build();
    try {
      AtomicBoolean started = new AtomicBoolean();
      Mono<Void> starting = agent.startAsync();
      assertThat(dm.isRegistered("slow-store")).as("nothing before it is subscribed").isFalse();
      starting.subscribe(v -> { }, e -> { }, () -> started.set(true));
      assertThat(started).as("subscribe returned while the store is being read").isFalse();

      store.gate.tryEmitEmpty();
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
