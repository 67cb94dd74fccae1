package io.otaflux.hawkbit;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import reactor.core.publisher.Mono;

/**
 * A real store with the rule being added to every store (CONTRACT: no update while the running
 * slot is an unconfirmed trial), refusing with {@link OtaException.Detail#TRIAL_RUNNING} before a
 * byte is written, as the stores will.
 */
final class TrialRule implements SlotStore {

  private final SlotStore store;

  TrialRule(SlotStore store) {
    this.store = store;
  }

  @Override
  public Mono<SlotWriter> openWriter(ImageSpec image) {
    return store.status().flatMap(status -> status.slot(status.active()).state() == SlotState.TRIAL
        ? Mono.error(OtaException.of(OtaException.Detail.TRIAL_RUNNING, "Slot " + status.active().label()
            + " runs an unconfirmed trial: confirm it (ota mark-good) or roll back (ota rollback) before the next "
            + "update."))
        : store.openWriter(image));
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
    return store.status();
  }
}
