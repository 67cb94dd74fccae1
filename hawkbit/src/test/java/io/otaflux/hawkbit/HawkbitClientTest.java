package io.otaflux.hawkbit;

import static io.otaflux.hawkbit.Device.feedback;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.transport.ClientKey;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.JdkTls;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.transport.testing.FaultProxy;
import io.otaflux.transport.testing.TestPki;
import io.otaflux.hawkbit.testing.HawkbitServer;
import io.otaflux.hawkbit.testing.Mgmt;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import reactor.core.publisher.Sinks;

/** The DDI flows against the real hawkBit server, each with its own target. */
@ExtendWith(HawkbitServer.class)
class HawkbitClientTest {

  private static final Duration WAIT = Duration.ofSeconds(40);
  private static final AtomicInteger IDS = new AtomicInteger();

  @TempDir
  Path tmp;

  private static byte[] image(int size) {
    byte[] b = new byte[size];
    new Random().nextBytes(b); // unique: hawkBit stores equal artifacts once
    return b;
  }

  private Device device(Mgmt mgmt, String name, long slotSize) {
    Device d = new Device(tmp.resolve(name), name + "-" + ProcessHandle.current().pid() + "-" + IDS.incrementAndGet(),
        slotSize);
    mgmt.target(d.id, d.token);
    return d;
  }

  private static void show(String title, List<String> history) {
    System.out.println("hawkBit recorded for " + title + ":");
    history.forEach(line -> System.out.println("  " + line));
  }

  /** The closed/failure feedback of {@code a}: hawkBit shows the action as an error, slot a stays the boot choice. */
  private static HawkbitEvent.FeedbackSent failure(HawkbitClient client, Mgmt mgmt, Device d, Mgmt.Assigned a,
      String title) {
    HawkbitEvent.FeedbackSent failure = feedback(client, "closed", "failure", WAIT);
    assertThat(mgmt.actionStatus(d.id, a.actionId())).isEqualTo("error");
    assertThat(d.status().next()).isEqualTo(SlotId.A);
    show(title, mgmt.history(d.id, a.actionId()));
    return failure;
  }

  @Test
  void reportsSuccessOnlyAfterTheNewImageIsMarkedGoodAcrossARestart(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "happy", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "2.0.0", image(300_000), "forced", false, null);
      HawkbitClient client = d.start(d.builder(server));

      HawkbitEvent.DeploymentStarted started = Device.await(client, HawkbitEvent.DeploymentStarted.class, e -> true,
          WAIT);
      assertThat(started.download()).isEqualTo(HawkbitEvent.Handling.FORCED);
      feedback(client, "downloaded", "none", WAIT);
      HawkbitEvent.FeedbackSent trial = feedback(client, "proceeding", "none", WAIT);
      while (!trial.details().get(0).contains("trial boot choice")) {
        trial = Device.await(client, HawkbitEvent.FeedbackSent.class,
            e -> e.details().get(0).contains("trial boot choice"), WAIT);
      }
      assertThat(d.status().next()).isEqualTo(SlotId.B);
      assertThat(d.status().slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
      // activated but not confirmed: hawkBit must not show success yet
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isNotIn("finished", "error");
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("pending");

      // the device reboots (the client stops with it), boots the trial slot and marks it good
      client.stop();
      d.rebootAndMarkGood();
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("pending");

      HawkbitClient after = d.start(d.builder(server));
      HawkbitEvent.FeedbackSent success = feedback(after, "closed", "success", WAIT);
      assertThat(success.actionId()).isEqualTo(a.actionId());
      assertThat(success.details().get(0)).contains("2.0.0", "marked good");
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isEqualTo("finished");
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("in_sync");
      assertThat(d.dir.resolve("hawkbit-action.properties")).doesNotExist();
      assertThat(mgmt.attributes(d.id).path("slot").asText()).isIn("a", "b");
      show("the happy path", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void aTrialThatIsNeverConfirmedFallsBackAndIsReportedAsAFailure(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "fallback", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "2.2.0", image(40_000), "forced", false, null);
      HawkbitClient client = d.start(d.builder(server));
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      // the new image never confirms itself: three trial boots, then the bootloader's fallback to slot a
      for (int boot = 0; boot < 4; boot++) {
        d.store.boot().block(WAIT);
      }
      assertThat(d.status().active()).isEqualTo(SlotId.A);
      client.pollNow();
      HawkbitEvent.FeedbackSent failure = feedback(client, "closed", "failure", WAIT);
      assertThat(failure.details().get(0)).contains("2.2.0", "not confirmed", "fell back to slot a");
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isEqualTo("error");
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("error");
      show("a fallback", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void aSoftAssignmentIsAnAttemptAndInstallsToo(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "soft", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "2.1.0", image(50_000), "soft", false, null);
      HawkbitClient client = d.start(d.builder(server));
      HawkbitEvent.DeploymentStarted started = Device.await(client, HawkbitEvent.DeploymentStarted.class, e -> true,
          WAIT);
      assertThat(started.download()).isEqualTo(HawkbitEvent.Handling.ATTEMPT);
      assertThat(started.update()).isEqualTo(HawkbitEvent.Handling.ATTEMPT);
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      d.rebootAndMarkGood();
      client.pollNow();
      feedback(client, "closed", "success", WAIT);
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("in_sync");
      // two more polls: the finished action is never started again
      long polls = Device.seen(client, HawkbitEvent.Polled.class).size();
      client.events().ofType(HawkbitEvent.Polled.class).skip(polls + 2).next().block(WAIT);
      List<String> history = mgmt.history(d.id, a.actionId());
      assertThat(history.get(history.size() - 1)).startsWith("finished:");
      assertThat(Device.seen(client, HawkbitEvent.FeedbackSent.class))
          .filteredOn(e -> e.details().get(0).startsWith("Downloading")).hasSize(1);
      show("a soft assignment", history);
    }
  }

  @Test
  void anUntrustedArtifactServerIsAFailureWithItsReason(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "trust", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(20_000));
      // the DDI channel trusts hawkBit, the download pipeline trusts another root only
      HttpsFirmwareSource otherRoot = HttpsFirmwareSource.create()
          .trustAnchors(TrustAnchors.of(List.of(TestPki.shared().root().certificate())));
      HawkbitClient client = d.start(d.builder(server, otherRoot));
      HawkbitEvent.FeedbackSent failure = failure(client, mgmt, d, a, "a trust failure");
      assertThat(failure.details().get(1)).matches("reason: trust, detail: (untrusted_chain|trust_failed).*");
    }
  }

  /** Trust in hawkBit's certificate, presenting {@code key} when asked. */
  private static javax.net.ssl.SSLContext presenting(HawkbitServer.Running server, ClientKey key) {
    return JdkTls.sslContext(TrustAnchors.fromPemFile(server.certificate()), List.of(), key.keyManagers());
  }

  @Test
  void mutualTlsCarriesTheDdiCallsAndTheArtifactDownload(HawkbitServer.Running server, Mgmt mgmt) throws Exception {
    Assumptions.assumeTrue(server.asksForClientCertificates(), "a server attached by hand asks for no client certificate");
    ClientKey key = ClientKey.fromPemFiles(server.device().certificate(), server.device().key());
    try (Device d = device(mgmt, "mtls", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(30_000));
      HawkbitClient client = d.start(d.builder(server, Device.source(server).clientKey(key))
          .sslContext(presenting(server, key)));
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      assertThat(mgmt.history(d.id, a.actionId())).anyMatch(l -> l.startsWith("downloaded:"));
      // hawkBit's access log: the polls and the artifact came with the certificate, the test's own calls without
      List<String> log = server.accessLogOnceContains("/rest/v1/targets/" + d.id + "/actions/" + a.actionId()
          + "/status", WAIT);
      assertThat(log).filteredOn(l -> l.contains("/controller/v1/" + d.id + " ")).isNotEmpty()
          .allMatch(l -> l.contains("cert=[Ljava.security.cert.X509Certificate;"));
      assertThat(log).filteredOn(l -> l.contains("/controller/v1/" + d.id + "/softwaremodules/"))
          .isNotEmpty().allMatch(l -> l.contains("cert=[Ljava.security.cert.X509Certificate;"));
      assertThat(log).filteredOn(l -> l.contains("/rest/v1/targets/" + d.id)).isNotEmpty()
          .allMatch(l -> l.endsWith("cert=-"));
    }
  }

  @Test
  void aClientCertificateHawkbitDoesNotTrustIsRefusedWithItsOwnDetail(HawkbitServer.Running server, Mgmt mgmt) {
    Assumptions.assumeTrue(server.asksForClientCertificates(), "a server attached by hand asks for no client certificate");
    ClientKey device = ClientKey.fromPemFiles(server.device().certificate(), server.device().key());
    TestPki.shared().unrelatedRoot().client("gw-stranger").writePem(tmp.resolve("s.crt"), tmp.resolve("s.key"));
    ClientKey stranger = ClientKey.fromPemFiles(tmp.resolve("s.crt"), tmp.resolve("s.key"));
    try (Device d = device(mgmt, "mtls-refused", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(20_000));
      // the polls present the device's certificate, the download a stranger's
      HawkbitClient client = d.start(d.builder(server, Device.source(server).clientKey(stranger))
          .sslContext(presenting(server, device)));
      HawkbitEvent.FeedbackSent failure = failure(client, mgmt, d, a, "a client certificate hawkBit does not trust");
      assertThat(failure.details().get(1)).startsWith("reason: trust, detail: client_cert_refused");
      assertThat(failure.details().get(0)).contains("refused this device's client certificate", "CN=gw-stranger");
      client.stop();

      // the polls with the stranger's certificate: a failed poll that names the client certificate, and backoff
      HawkbitClient refused = d.start(d.builder(server).sslContext(presenting(server, stranger)));
      HawkbitEvent.Failed poll = Device.await(refused, HawkbitEvent.Failed.class, e -> true, WAIT);
      assertThat(poll.message()).contains("client certificate");
      assertThat(poll.retryIn()).isGreaterThanOrEqualTo(Duration.ofMillis(500));
      System.out.println("A poll with an untrusted client certificate: " + poll.detail() + ": " + poll.message());
    }
  }

  @Test
  void anArtifactThatDoesNotMatchHawkbitsSha256IsAnIntegrityFailure(HawkbitServer.Running server, Mgmt mgmt)
      throws Exception {
    try (Device d = device(mgmt, "integrity", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(40_000));
      // the stored file rots on the server: same size, one byte changed
      try (RandomAccessFile f = new RandomAccessFile(server.artifactFile(a.sha1()).toFile(), "rw")) {
        f.seek(1000);
        int b = f.read();
        f.seek(1000);
        f.write(b ^ 0x01);
      }
      HawkbitClient client = d.start(d.builder(server));
      HawkbitEvent.FeedbackSent failure = failure(client, mgmt, d, a, "an integrity failure");
      assertThat(failure.details().get(1)).matches("reason: integrity, detail: (digest_mismatch|integrity_failed).*");
    }
  }

  @Test
  void anImageLargerThanTheSlotIsRefusedBeforeAByteIsWritten(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "large", 64 * 1024)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(100_000));
      HawkbitClient client = d.start(d.builder(server));
      HawkbitEvent.FeedbackSent failure = failure(client, mgmt, d, a, "an image too large");
      assertThat(failure.details().get(1)).matches("reason: storage, detail: (slot_too_small|io_error).*");
      assertThat(failure.details().get(0)).contains("larger than");
    }
  }

  @Test
  void aConnectionThatKeepsBreakingIsANetworkFailureAfterTheRetries(HawkbitServer.Running server, Mgmt mgmt) {
    // the polls go straight to hawkBit; every artifact connection goes through a proxy that cuts it
    // during the TLS handshake (1 KiB), so no byte of the image ever arrives and the retries (counted
    // while nothing new arrives) run out
    try (Device d = device(mgmt, "network", 2 << 20);
        FaultProxy proxy = FaultProxy.start(server.port, new FaultProxy.Fault.Cut(1024))) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(1_000_000));
      io.otaflux.spi.FirmwareSource cut = (request, from) -> Device.source(server).open(io.otaflux.UpdateRequest.of(
          java.net.URI.create("https://localhost:" + proxy.port() + request.uri().getRawPath())), from);
      HawkbitClient client = d.start(d.builder(server, cut));
      HawkbitEvent.FeedbackSent failure = failure(client, mgmt, d, a, "a network failure after the retries");
      assertThat(failure.details().get(1)).startsWith("reason: network");
    }
  }

  @Test
  void aCancelDuringTheDownloadIsAcceptedAndLeavesTheStoreAsItWas(HawkbitServer.Running server, Mgmt mgmt) {
    // a slow link: 16 KiB every 50 ms
    try (Device d = device(mgmt, "cancel", 4 << 20);
        FaultProxy proxy = FaultProxy.start(server.port, new FaultProxy.Fault.Drip(16 * 1024, Duration.ofMillis(50)))) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(3_000_000));
      HawkbitClient client = d.start(d.builder(server).server(java.net.URI.create("https://localhost:" + proxy.port())));
      // hawkBit has seen the artifact requested: the download runs
      reactor.core.publisher.Flux.interval(Duration.ofMillis(200))
          .filter(t -> mgmt.history(d.id, a.actionId()).stream().anyMatch(l -> l.startsWith("download:")))
          .blockFirst(WAIT);
      mgmt.cancel(d.id, a.actionId());
      HawkbitEvent.CancelRequested cancel = Device.await(client, HawkbitEvent.CancelRequested.class, e -> true, WAIT);
      assertThat(cancel.accepted()).isTrue();
      HawkbitEvent.FeedbackSent closed = feedback(client, "closed", "success", WAIT);
      assertThat(closed.details().get(0)).contains("Cancelled before activation", "download was aborted");
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isEqualTo("canceled");
      assertThat(d.status().next()).isEqualTo(SlotId.A);
      assertThat(d.status().slot(SlotId.B).state()).isNotEqualTo(SlotState.TRIAL);
      show("a cancel during the download", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void aCancelAfterActivationIsRejectedAndTheActionStillEndsInSync(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "late-cancel", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(30_000));
      HawkbitClient client = d.start(d.builder(server));
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      mgmt.cancel(d.id, a.actionId());
      HawkbitEvent.CancelRequested cancel = Device.await(client, HawkbitEvent.CancelRequested.class, e -> true, WAIT);
      assertThat(cancel.accepted()).isFalse();
      feedback(client, "rejected", "success", WAIT);
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isNotIn("finished", "error", "canceled");
      d.rebootAndMarkGood();
      client.pollNow();
      feedback(client, "closed", "success", WAIT);
      assertThat(mgmt.updateStatus(d.id)).isEqualTo("in_sync");
      show("a cancel after activation", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void aWrongTokenGivesA401SentenceAndBacksOffInsteadOfSpinning(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "token", 1 << 20)) {
      HawkbitClient client = d.start(d.builder(server).targetToken("not-the-token"));
      List<HawkbitEvent.Failed> failures = client.events().ofType(HawkbitEvent.Failed.class).take(4).collectList()
          .block(WAIT);
      assertThat(failures).hasSize(4);
      assertThat(failures.get(0).detail()).isEqualTo(io.otaflux.OtaException.Detail.HTTP_STATUS);
      assertThat(failures.get(0).message()).contains("refused controller " + d.id, "401", "token is wrong")
          .doesNotContain("not-the-token");
      // exponential backoff from 500 ms: the 4th wait is at least 1 s, and no poll ever succeeded
      assertThat(failures.get(0).retryIn()).isGreaterThanOrEqualTo(Duration.ofMillis(500));
      assertThat(failures.get(3).retryIn()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
      assertThat(client.events().ofType(HawkbitEvent.Polled.class).take(Duration.ofMillis(10)).collectList()
          .block(WAIT)).isEmpty();
      System.out.println("401 sentence: " + failures.get(0).message());
    }
  }

  @Test
  void aGatewayTokenServesTheControllerToo(HawkbitServer.Running server, Mgmt mgmt) {
    mgmt.config("authentication.gatewaytoken.key", "gateway-secret-" + ProcessHandle.current().pid());
    mgmt.config("authentication.gatewaytoken.enabled", true);
    try (Device d = device(mgmt, "gateway", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, image(10_000));
      HawkbitClient client = d.start(d.builder(server).gatewayToken("gateway-secret-" + ProcessHandle.current().pid()));
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      assertThat(mgmt.history(d.id, a.actionId())).anyMatch(l -> l.startsWith("downloaded:"));
    }
  }

  @Test
  void aClosedMaintenanceWindowKeepsTheDownloadedImageUntilItOpens(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "window", 1 << 20)) {
      ZonedDateTime opens = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(20);
      String cron = opens.getSecond() + " " + opens.getMinute() + " " + opens.getHour() + " " + opens.getDayOfMonth()
          + " " + opens.getMonthValue() + " ? " + opens.getYear();
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "3.0.0", image(30_000), "forced", false,
          new String[] {cron, "00:05:00"});
      HawkbitClient client = d.start(d.builder(server));
      HawkbitEvent.FeedbackSent downloaded = feedback(client, "downloaded", "none", WAIT);
      assertThat(downloaded.details()).anyMatch(s -> s.contains("waits for the maintenance window"));
      assertThat(d.status().next()).isEqualTo(SlotId.A); // downloaded, not installed
      HawkbitEvent.FeedbackSent trial = Device.await(client, HawkbitEvent.FeedbackSent.class,
          e -> e.details().get(0).contains("trial boot choice"), Duration.ofSeconds(60));
      assertThat(ZonedDateTime.now(ZoneOffset.UTC)).isAfterOrEqualTo(opens.minusSeconds(1));
      assertThat(trial.actionId()).isEqualTo(a.actionId());
      assertThat(d.status().next()).isEqualTo(SlotId.B);
      show("a maintenance window", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void anActionThatNeedsConsentWaitsForTheUsersAnswer(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "consent", 1 << 20)) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "4.0.0", image(30_000), "forced", true, null);
      Sinks.One<Boolean> user = Sinks.one();
      HawkbitClient client = d.start(d.builder(server).consent(request -> user.asMono()));
      HawkbitEvent.ConsentRequested asked = Device.await(client, HawkbitEvent.ConsentRequested.class, e -> true, WAIT);
      assertThat(asked.request().version()).isEqualTo("4.0.0");
      assertThat(asked.request().actionId()).isEqualTo(a.actionId());
      // nothing is downloaded while the user thinks
      assertThat(client.events().ofType(HawkbitEvent.DeploymentStarted.class).take(Duration.ofSeconds(3))
          .collectList().block(WAIT)).isEmpty();
      assertThat(mgmt.actionStatus(d.id, a.actionId())).isEqualTo("wait_for_confirmation");
      user.tryEmitValue(true);
      feedback(client, "confirmed", "none", WAIT);
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.details().get(0).contains("trial boot choice"), WAIT);
      show("consent", mgmt.history(d.id, a.actionId()));
    }
  }

  @Test
  void aStoreThatRefusesDuringATrialDefersTheActionUntilTheDeviceConfirms(HawkbitServer.Running server, Mgmt mgmt) {
    try (Device d = device(mgmt, "deferred", 1 << 20)) {
      // a local update (not from hawkBit) runs as an unconfirmed trial
      io.otaflux.OtaUpdater.create().source(io.otaflux.testkit.InMemoryFirmwareSource.of(image(10_000))).store(d.store)
          .update(io.otaflux.UpdateRequest.of("https://local.example/fw.bin")).blockLast(WAIT);
      d.store.boot().block(WAIT);
      Mgmt.Assigned second = mgmt.assign(d.id, "fw2-" + d.id, "6.1.0", image(20_001), "forced", false, null);
      HawkbitClient client = d.start(d.builder(server));
      HawkbitEvent.FeedbackSent deferred = Device.await(client, HawkbitEvent.FeedbackSent.class,
          e -> e.actionId() == second.actionId() && e.details().stream().anyMatch(x -> x.startsWith("Deferred")), WAIT);
      assertThat(deferred.execution()).isEqualTo("proceeding");
      assertThat(deferred.details().get(1)).isEqualTo("reason: policy, detail: trial_running");
      assertThat(mgmt.actionStatus(d.id, second.actionId())).isNotIn("error", "finished");
      // the device confirms its trial: the deferred action proceeds into the other slot
      d.store.markGood().block(WAIT);
      client.pollNow();
      Device.await(client, HawkbitEvent.FeedbackSent.class, e -> e.actionId() == second.actionId()
          && e.details().get(0).contains("trial boot choice"), WAIT);
      assertThat(d.status().next()).isEqualTo(SlotId.A);
      show("a deferred action (second)", mgmt.history(d.id, second.actionId()));
    }
  }

  @Test
  void aServerRestartMidDownloadIsRiddenOutAndTheDownloadResumes(HawkbitServer.Running server, Mgmt mgmt)
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(server.isOwned(), "a server attached by hand is not restarted");
    // a slow link (64 KiB every 50 ms: 24 MB take ~20 s), trust read afresh (the restarted server has a new key);
    // the image is several times larger than what loopback's socket buffers hold (up to ~10 MB), so the
    // server cannot have sent it all before it is killed
    try (Device d = device(mgmt, "restart", 32 << 20);
        FaultProxy proxy = FaultProxy.start(server.port, new FaultProxy.Fault.Drip(64 * 1024, Duration.ofMillis(50)))) {
      Mgmt.Assigned a = mgmt.assign(d.id, "fw-" + d.id, "7.0.0", image(24_000_000), "forced", false, null);
      io.otaflux.spi.FirmwareSource fresh = (request, from) -> Device.source(server).open(request, from);
      HawkbitClient client = d.start(d.builder(server, fresh)
          .server(java.net.URI.create("https://localhost:" + proxy.port()))
          .sslContext(HawkbitServer.trustingCurrent(server.certificate()))
          .updater(io.otaflux.OtaUpdater.create().source(fresh).retry(40, Duration.ofSeconds(1), Duration.ofSeconds(8))));
      reactor.core.publisher.Flux.interval(Duration.ofMillis(200))
          .filter(t -> mgmt.history(d.id, a.actionId()).stream().anyMatch(l -> l.startsWith("download:")))
          .blockFirst(WAIT);
      // mid-download: the slot is still being written (a graceful stop would finish serving the artifact first)
      assertThat(d.status().slot(SlotId.B).state()).isEqualTo(SlotState.WRITING);
      server.kill();
      server.start();
      HawkbitEvent.FeedbackSent trial = Device.await(client, HawkbitEvent.FeedbackSent.class,
          e -> e.details().get(0).contains("trial boot choice"), Duration.ofMinutes(5));
      assertThat(trial.actionId()).isEqualTo(a.actionId());
      assertThat(d.status().slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
      List<String> history = new Mgmt(server).history(d.id, a.actionId());
      // the slot was mid-write when the server died and now holds the whole verified image: the
      // download went on after the restart, it did not fail (hawkBit's own history of the download
      // requests is not asserted: its H2 file may lose the last second's entries to the SIGKILL)
      assertThat(history).noneMatch(l -> l.startsWith("error:"));
      show("a server restart mid-download", history);
    }
  }
}
