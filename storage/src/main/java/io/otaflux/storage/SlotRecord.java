package io.otaflux.storage;

import java.net.URI;
import java.util.Objects;

import io.otaflux.Sha256;
import io.otaflux.SlotState;
import io.otaflux.internal.Redaction;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;

import org.jspecify.annotations.Nullable;

/**
 * What the boot state records of one slot.
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

  SlotRecord writing(ImageSpec image, long durable, @Nullable String validator) {
    return new SlotRecord(SlotState.WRITING, 0, durable, null, null, null, new Journal(image, validator));
  }

  SlotRecord synced(long durable, @Nullable String validator) {
    Journal j = Objects.requireNonNull(journal, "journal");
    return new SlotRecord(state, attempts, durable, null, null, null, new Journal(j.image(), validator));
  }

  SlotRecord sealed(ImageMetadata image) {
    return new SlotRecord(SlotState.WRITING, 0, image.size(), image.sha256(), image.version(),
        Redaction.withoutUserInfo(image.effectiveUri()), null);
  }

  SlotRecord aborted() {
    return new SlotRecord(SlotState.INVALID, 0, 0, null, null, null, null);
  }

  SlotRecord withState(SlotState newState, int newAttempts) {
    return new SlotRecord(newState, newAttempts, size, sha256, version, origin, journal);
  }
}
