package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The orchestration without Leshan, on a real store and a real HTTPS server: a whole update, and
 * every call out of it (events, resource changes, the store's status, the reboot hook) made with
 * no lock of the object held.
 */
class FirmwareUpdatesTest {

  @TempDir
  Path dir;

  @Test
  void aWholeUpdateCallsEveryoneOutsideWithNoLockHeldAndInTheOrderOfTheTransitions() throws Exception {
    byte[] image = Fixtures.image(100 * 1024 + 5, 9);
    FileSlotStore store = FileSlotStore.init(dir.resolve("s"), Fixtures.SLOT_SIZE);
    Path pendingFile = dir.resolve("lwm2m-agent.properties");
    AtomicReference<FirmwareUpdates> self = new AtomicReference<>();
    List<String> calledUnderLock = new CopyOnWriteArrayList<>();
    List<AgentEvent> events = new CopyOnWriteArrayList<>();
    List<Integer> changed = new CopyOnWriteArrayList<>();
    Sinks.Many<AgentEvent> seen = Sinks.many().replay().all();
    Sinks.One<String> rebooted = Sinks.one();
    Scheduler work = Schedulers.newBoundedElastic(2, 100, "updates-test");
    try (TestServer https = TestServer.https(TestPki.shared().localhost())) {
      https.route("/fw.bin", Routes.image(image));
      FirmwareUpdates updates = new FirmwareUpdates(Fixtures.updater(), store, null, false, pendingFile, work,
          () -> {
            note(self, "reboot hook", calledUnderLock);
            rebooted.tryEmitValue(Thread.currentThread().getName());
          },
          event -> {
            note(self, "event " + event, calledUnderLock);
            events.add(event);
            seen.tryEmitNext(event);
          },
          status -> note(self, "store seen", calledUnderLock));
      self.set(updates);
      updates.onChanged(resource -> {
        note(self, "resource " + resource, calledUnderLock);
        changed.add(resource);
      });

      assertThat(updates.writeUri(https.url("/fw.bin"))).isTrue();
      seen.asFlux().filter(e -> e.equals(new AgentEvent.StateChanged(FirmwareState.DOWNLOADED)))
          .blockFirst(DmServer.TIMEOUT);
      assertThat(updates.executeUpdate()).isTrue();
      assertThat(rebooted.asMono().block(DmServer.TIMEOUT)).startsWith("updates-test");
      assertThat(PendingUpdate.read(pendingFile)).hasValueSatisfying(p -> assertThat(p.sha256())
          .isEqualTo(Sha256.digest(image)));

      assertThat(store.boot().block()).isEqualTo(SlotId.B);
      store.markGood().block();
      updates.checkPending().block(DmServer.TIMEOUT);

      assertThat(updates.now().result()).isEqualTo(FirmwareResult.SUCCESS);
      assertThat(pendingFile).doesNotExist();
      assertThat(events).containsExactly(new AgentEvent.StateChanged(FirmwareState.DOWNLOADING),
          new AgentEvent.StateChanged(FirmwareState.DOWNLOADED), new AgentEvent.StateChanged(FirmwareState.UPDATING),
          new AgentEvent.StateChanged(FirmwareState.IDLE), new AgentEvent.ResultChanged(FirmwareResult.SUCCESS));
      assertThat(changed).containsSubsequence(FirmwareMachine.STATE, FirmwareMachine.STATE, FirmwareMachine.STATE,
          FirmwareMachine.STATE, FirmwareMachine.RESULT);
      assertThat(calledUnderLock).as("called with the object's lock held").isEmpty();
    } finally {
      work.dispose();
    }
  }

  private static void note(AtomicReference<FirmwareUpdates> self, String call, List<String> calledUnderLock) {
    FirmwareUpdates updates = self.get();
    if (updates != null && updates.locked()) {
      calledUnderLock.add(call);
    }
  }
}
