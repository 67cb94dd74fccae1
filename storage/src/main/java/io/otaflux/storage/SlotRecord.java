package io.otaflux.storage;

import java.net.URI;
import java.util.Objects;

import io.otaflux.Sha256;
import io.otaflux.SlotState;
import io.otaflux.spi.ImageSpec;

import org.jspecify.annotations.Nullable;

/**
 * What the boot state records of one slot: the part the {@link io.otaflux.spi.BootRules} work on
 * (state, attempts, size, digest, version) and what only this store keeps (origin, journal).
 *
 * @param state the slot's state
 * @param attempts unconfirmed boots of a trial
 * @param size the sealed image's size; while {@code writing} without a seal, the durable offset
 * @param sha256 the sealed (committed, verified) image's digest, or null: a slot boots only with one
 * @param version the sealed image's version, or null
 * @param origin where the sealed image came from, or null
 * @param journal the image being written and its source validator, while a write can resume
 */
record SlotRecord(SlotState state, int attempts, long size, @Nullable Sha256 sha256, @Nullable String version,
    @Nullable URI origin, @Nullable Journal journal) {

  static final SlotRecord EMPTY = new SlotRecord(SlotState.EMPTY, 0, 0, null, null, null, null);
  static final SlotRecord FACTORY = new SlotRecord(SlotState.GOOD, 0, 0, null, null, null, null);

  SlotRecord {
    Objects.requireNonNull(state, "state");
  }

  /**
   * The resume journal of an interrupted write: the image it was writing and the validator of the
   * source its durable bytes came from. The durable offset is the record's {@code size}.
   *
   * @param image the image being written
   * @param validator the source's validator at the last sync, or null
   */
  record Journal(ImageSpec image, @Nullable String validator) {
    Journal {
      Objects.requireNonNull(image, "image");
    }
  }

  boolean isSealed() {
    return sha256 != null;
  }
}
