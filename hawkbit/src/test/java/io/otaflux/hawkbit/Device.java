package io.otaflux.hawkbit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import io.otaflux.OtaUpdater;
import io.otaflux.StoreStatus;
import io.otaflux.spi.FirmwareSource;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.hawkbit.testing.HawkbitServer;

/**
 * A gateway under test: a real file slot store, the real HTTPS source trusting the server's
 * certificate, and a {@link HawkbitClient} polling the real server.
 */
final class Device implements AutoCloseable {

  final String id;
  final String token;
  final Path dir;
  final FileSlotStore store;
  private final List<HawkbitClient> clients = new ArrayList<>();

  Device(Path dir, String id, long slotSize) {
    this.id = id;
    this.token = "token-" + id;
    this.dir = dir;
    this.store = FileSlotStore.init(dir.resolve("slots"), slotSize);
  }

  static HttpsFirmwareSource source(HawkbitServer.Running server) {
    return HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(server.certificate()))
        .idleTimeout(Duration.ofSeconds(10));
  }

  HawkbitClient.Builder builder(HawkbitServer.Running server) {
    return builder(server, source(server));
  }

  HawkbitClient.Builder builder(HawkbitServer.Running server, FirmwareSource source) {
    return HawkbitClient.builder()
        .server(server.uri())
        .controllerId(id)
        .targetToken(token)
        .sslContext(server.sslContext())
        .updater(OtaUpdater.create().source(source).retry(2, Duration.ofMillis(100), Duration.ofMillis(500)))
        .store(store)
        .actionFile(dir.resolve("hawkbit-action.properties"))
        .backoff(Duration.ofMillis(500), Duration.ofSeconds(4))
        .requestTimeout(Duration.ofSeconds(20));
  }

  HawkbitClient start(HawkbitClient.Builder builder) {
    HawkbitClient client = builder.build();
    clients.add(client);
    client.start();
    return client;
  }

  StoreStatus status() {
    return store.status().block(Duration.ofSeconds(10));
  }

  /** The device reboots into its boot choice and confirms it. */
  void rebootAndMarkGood() {
    store.boot().block(Duration.ofSeconds(10));
    store.markGood().block(Duration.ofSeconds(10));
  }

  static <T extends HawkbitEvent> T await(HawkbitClient client, Class<T> type, Predicate<T> match, Duration timeout) {
    return client.events().ofType(type).filter(match).next().block(timeout);
  }

  /** The events of {@code type} seen so far (the client replays them to a new subscriber at once). */
  static <T extends HawkbitEvent> List<T> seen(HawkbitClient client, Class<T> type) {
    return client.events().take(Duration.ofMillis(200)).ofType(type).collectList().block(Duration.ofSeconds(10));
  }

  static HawkbitEvent.FeedbackSent feedback(HawkbitClient client, String execution, String finished, Duration timeout) {
    HawkbitEvent.FeedbackSent f = await(client, HawkbitEvent.FeedbackSent.class,
        e -> e.execution().equals(execution) && e.finished().equals(finished), timeout);
    if (f == null) {
      throw new AssertionError("no " + execution + "/" + finished + " feedback within " + timeout);
    }
    return f;
  }

  @Override
  public void close() {
    clients.forEach(HawkbitClient::stop);
  }
}
