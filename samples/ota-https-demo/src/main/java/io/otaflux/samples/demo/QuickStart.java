package io.otaflux.samples.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.otaflux.OtaUpdater;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.spi.SlotStore;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.HttpsUpdates;
import io.otaflux.transport.SpkiPin;
import io.otaflux.transport.TrustAnchors;

import reactor.core.publisher.Flux;

/**
 * The README's "Use it in your own code" snippets, compiled (and checked against the README by
 * {@code ReadmeSnippetTest}). Run it as
 * {@code java -cp samples/ota-https-demo/target/ota-https-demo.jar io.otaflux.samples.demo.QuickStart URL ROOT.pem DIR}.
 */
public final class QuickStart {

  private QuickStart() {
  }

  /**
   * Updates DIR's slot store from URL, pinning ROOT.pem.
   *
   * @param args URL, the root certificate file, the slot store directory
   * @throws IOException when the certificate cannot be read
   */
  public static void main(String[] args) throws IOException {
    String url = args[0];
    Path rootCertFile = Path.of(args[1]);
    Path slotDir = Path.of(args[2]);
    // tag::one-call[]
    String rootCert = Files.readString(rootCertFile);            // saved by `ota get-cert URL`
    SlotStore slots = FileSlotStore.openOrInit(slotDir);          // slot-a.img, slot-b.img, boot state

    HttpsUpdates.update(url, rootCert, slots,
            event -> System.out.println(event))                   // the progress bar: any Consumer<UpdateEvent>
        .subscribe(
            result -> System.out.println("OTA download successful: slot " + result.slot().label()
                + " boots next. Reboot to the new firmware."),
            error -> System.out.println("OTA error: " + error.getMessage())); // the original's updateError()
    // end::one-call[]
  }

  /**
   * The composable form: the same update as a {@code Flux} of events.
   *
   * @param url the image URL
   * @param rootCertFile the trust anchor file
   * @param backupPin a backup SPKI pin
   * @param slots the store
   * @return the update's events
   */
  static Flux<UpdateEvent> composed(String url, Path rootCertFile, String backupPin, SlotStore slots) {
    // tag::composed[]
    OtaUpdater updater = OtaUpdater.create()
        .source(HttpsFirmwareSource.create()
            .trustAnchors(TrustAnchors.fromPemFile(rootCertFile))       // one or more roots or intermediates
            .pin(SpkiPin.parse(backupPin))                               // optional: any one pin must match
            .idleTimeout(Duration.ofSeconds(30)))
        .store(slots)
        .retry(3, Duration.ofSeconds(1), Duration.ofSeconds(30));        // resume a broken download 3 times

    Flux<UpdateEvent> events = updater.update(UpdateRequest.of(url)
        .withSha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        .withSize(1_048_576));
    // cold: nothing happens until you subscribe; cancelling the subscription aborts the update
    // end::composed[]
    return events;
  }

  static UpdateResult blocking(OtaUpdater updater, UpdateRequest request) {
    return updater.install(request).block(Duration.ofMinutes(10));
  }
}
