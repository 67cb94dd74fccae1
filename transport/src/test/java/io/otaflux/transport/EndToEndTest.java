package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.testkit.InMemorySlotStore;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.test.StepVerifier;

@ExtendWith(NoLeaks.class)
class EndToEndTest {

  @RegisterExtension
  final Servers servers = new Servers();

  private final byte[] image = Servers.image(600_000);

  private OtaUpdater updater(InMemorySlotStore store) {
    return OtaUpdater.create().source(Servers.trustingRoot()).store(store)
        .retry(3, Duration.ofMillis(10), Duration.ofMillis(50)).syncEvery(64 * 1024);
  }

  @Test
  void updatesOverHttpsAcrossAConnectionCutResumingWithRangeAndVerifyingTheDigest() {
    Routes.Image route = Routes.image(image).cutFirstAt(300_000);
    TestServer server = servers.https().route("/fw.bin", route);
    InMemorySlotStore store = InMemorySlotStore.create(1 << 20);

    List<UpdateEvent> events = updater(store)
        .update(UpdateRequest.of(server.url("/fw.bin")).withSha256(Sha256.digest(image)))
        .collectList().block(TIMEOUT);

    UpdateEvent.Retrying retry = events.stream().filter(UpdateEvent.Retrying.class::isInstance)
        .map(UpdateEvent.Retrying.class::cast).findFirst().orElseThrow();
    assertThat(retry.cause().reason()).isEqualTo(Reason.NETWORK);
    assertThat(retry.resumeOffset()).isPositive().isLessThanOrEqualTo(300_000);
    assertThat(events).filteredOn(UpdateEvent.Resolved.class::isInstance).hasSize(2)
        .last().satisfies(r -> assertThat(((UpdateEvent.Resolved) r).resumedFrom()).isEqualTo(retry.resumeOffset()));
    assertThat(events).filteredOn(UpdateEvent.Verified.class::isInstance).singleElement()
        .satisfies(v -> assertThat(((UpdateEvent.Verified) v).sha256()).isEqualTo(Sha256.digest(image)));
    assertThat(events.get(events.size() - 1)).isEqualTo(new UpdateEvent.Activated(SlotId.B));
    assertThat(store.contents(SlotId.B)).isEqualTo(image);

    assertThat(server.requests()).hasSize(2);
    assertThat(server.requests().get(0).header("Range")).isNull();
    assertThat(server.requests().get(1).header("Range")).isEqualTo("bytes=" + retry.resumeOffset() + "-");
    assertThat(server.requests().get(1).header("If-Range")).isEqualTo(route.etag());
  }

  @Test
  void anImageLargerThanTheSlotIsRefusedBeforeAnyByteIsWrittenAndTheConnectionCloses() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    InMemorySlotStore store = InMemorySlotStore.create(100_000);
    StepVerifier.create(updater(store).update(UpdateRequest.of(server.url("/fw.bin"))))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.STORAGE).getMessage()).contains("larger than slot"))
        .verify(TIMEOUT);
    StepVerifier.create(server.allClosed(1)).expectComplete().verify(TIMEOUT);
    assertThat(store.contents(SlotId.B)).isEmpty();
  }

  @Test
  void aChunkedImageLargerThanTheSlotIsStoppedWhileStreaming() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image).withoutLength());
    InMemorySlotStore store = InMemorySlotStore.create(100_000);
    StepVerifier.create(updater(store).update(UpdateRequest.of(server.url("/fw.bin"))))
        .thenConsumeWhile(e -> true)
        .expectErrorSatisfies(e -> otaFailure(e, Reason.STORAGE))
        .verify(TIMEOUT);
    StepVerifier.create(server.allClosed(1)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void theOneCallUpdateInstallsWithARootCertificatePem() {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    InMemorySlotStore store = InMemorySlotStore.create(1 << 20);
    List<UpdateEvent> seen = new CopyOnWriteArrayList<>();
    UpdateResult result = HttpsUpdates.update(server.url("/fw.bin"), PKI.root().pem(), store, seen::add)
        .block(TIMEOUT);
    assertThat(result.activated()).isTrue();
    assertThat(result.sha256()).isEqualTo(Sha256.digest(image));
    assertThat(store.contents(result.slot())).isEqualTo(image);
    assertThat(seen).last().isEqualTo(new UpdateEvent.Activated(result.slot()));
    assertThat(seen).anySatisfy(e -> assertThat(e).isInstanceOf(UpdateEvent.Progress.class));
  }

  @Test
  void theOneCallUpdateFailsWithAHumanSentenceForAnUntrustedServer() {
    TestServer server = servers.https(PKI.unrelatedLocalhost()).route("/fw.bin", Routes.image(image));
    InMemorySlotStore store = InMemorySlotStore.create(1 << 20);
    StepVerifier.create(HttpsUpdates.update(server.url("/fw.bin").replace("https://", "https://bob:hunter2@"),
            PKI.root().pem(), store))
        .expectErrorSatisfies(e -> {
          OtaException o = otaFailure(e, Reason.TRUST);
          assertThat(HttpsUpdates.updateError(o)).isEqualTo(o.getMessage())
              .contains("Unrelated Test Root").doesNotContain("hunter2");
        })
        .verify(TIMEOUT);
    assertThat(store.contents(SlotId.B)).isEmpty();
  }

  @Test
  void theOneCallUpdateRefusesAnInvalidCertificateAsUsage() {
    StepVerifier.create(HttpsUpdates.update("https://localhost:1/fw.bin", "not a certificate",
            InMemorySlotStore.create(1024)))
        .expectErrorSatisfies(e -> otaFailure(e, Reason.USAGE))
        .verify(TIMEOUT);
  }

  @Test
  void anExpiredAnchorsWarningReachesTheResult() {
    TestServer server = servers.https(PKI.localhostUnderExpiredRoot()).route("/fw.bin", Routes.image(image));
    UpdateResult result = HttpsUpdates.update(server.url("/fw.bin"), PKI.expiredRoot().pem(),
        InMemorySlotStore.create(1 << 20)).block(TIMEOUT);
    assertThat(result.warnings()).singleElement().asString().contains("CN=Expired Test Root").contains("expired on");
  }

  // The update hashes and writes Netty's own receive buffers (lent, retained) and gives each back;
  // NoLeaks (paranoid detection) fails the class if one is never released: after a cut and a resume
  // (above), a write refused mid-stream (aChunkedImageLargerThanTheSlot...) and a cancel (below).

  @Test
  void anUpdateCancelledMidImageGivesBackEveryReceiveBufferItHeld() {
    byte[] big = Servers.image(3_000_000);
    TestServer server = servers.https().route("/fw.bin", Routes.image(big));
    InMemorySlotStore store = InMemorySlotStore.create(4 << 20);
    StepVerifier.create(updater(store).progressEvery(Duration.ZERO).update(UpdateRequest.of(server.url("/fw.bin"))))
        .thenConsumeWhile(e -> !(e instanceof UpdateEvent.Progress))
        .thenCancel()
        .verify(TIMEOUT);
    StepVerifier.create(server.allClosed(1)).expectComplete().verify(TIMEOUT);
  }
}
