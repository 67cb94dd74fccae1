package io.otaflux.transport;

import java.util.Objects;
import java.util.function.Consumer;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.spi.SlotStore;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;

/**
 * The one call of the original {@code ez.wifi.update(url, root_cert, &progressBar)}, with
 * {@code updateError()} as the failure's message:
 *
 * <pre>{@code
 * HttpsUpdates.update("https://fw.example.com/gw-2.0.bin", ROOT_CERT_PEM, store, bar::show)
 *     .subscribe(result -> reboot(), error -> showError(HttpsUpdates.updateError(error)));
 * }</pre>
 *
 * <p>For anything more (pins, timeouts, retries, an abort button) compose an {@link OtaUpdater}
 * with an {@link HttpsFirmwareSource}.
 */
public final class HttpsUpdates {

  private HttpsUpdates() {
  }

  /**
   * Downloads the image at {@code url} into the inactive slot of {@code store}, trusting the
   * CA(s) in {@code rootCertPem}, verifies it and activates it as a trial.
   *
   * <p><b>Cancellation:</b> cancelling aborts the update; the active slot and the boot choice stay
   * as they were.
   *
   * <p><b>Threading:</b> {@code progress} is called on the updater's write scheduler or a Netty
   * event loop; keep it short.
   *
   * <p><b>Errors:</b> an {@link OtaException} whose message is the sentence to show a person
   * (the original's {@code updateError()}); an invalid URL or certificate fails the {@code Mono},
   * it does not throw.
   *
   * @param url the image's https URL; {@code user:password@} in it is sent as basic auth
   * @param rootCertPem PEM (or the original's C header) with the root or intermediate CA(s), or
   *     null for the JDK's default CAs
   * @param store the A/B slot store
   * @param progress told of every event (resolved, progress, retrying, verified, activated)
   * @return the result
   */
  public static Mono<UpdateResult> update(String url, @Nullable String rootCertPem, SlotStore store,
      Consumer<? super UpdateEvent> progress) {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(progress, "progress");
    return Mono.defer(() -> {
      UpdateRequest request = UpdateRequest.of(url);
      TrustAnchors anchors = rootCertPem == null ? TrustAnchors.jdkDefault() : TrustAnchors.fromPem(rootCertPem);
      return OtaUpdater.create()
          .source(HttpsFirmwareSource.create().trustAnchors(anchors))
          .store(store)
          .install(request, progress);
    });
  }

  /**
   * As {@link #update(String, String, SlotStore, Consumer)}, without a progress listener.
   *
   * @param url the image's https URL
   * @param rootCertPem the CA(s) in PEM, or null for the JDK's
   * @param store the A/B slot store
   * @return the result
   */
  public static Mono<UpdateResult> update(String url, @Nullable String rootCertPem, SlotStore store) {
    return update(url, rootCertPem, store, event -> { });
  }

  /**
   * The sentence to show for a failed update: an {@link OtaException}'s message, or a generic
   * one (never a secret) for anything else.
   *
   * @param error what the update failed with
   * @return the human-readable error
   */
  public static String updateError(Throwable error) {
    Objects.requireNonNull(error, "error");
    if (error instanceof OtaException && error.getMessage() != null) {
      return error.getMessage();
    }
    return "The update failed unexpectedly (" + error.getClass().getSimpleName() + "); nothing was activated.";
  }
}
