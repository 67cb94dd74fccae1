package io.otaflux;

import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * What a store knows of one slot.
 *
 * @param slot which slot
 * @param state its state
 * @param size the image size in bytes (0 when empty; the durable bytes while writing)
 * @param sha256 the verified image digest, or null when there is none
 * @param attempts unconfirmed boots of a trial slot (0 otherwise)
 * @param version the image version when a manifest named it, or null
 * @param capacity the slot's capacity in bytes
 */
public record SlotStatus(SlotId slot, SlotState state, long size, @Nullable Sha256 sha256, int attempts,
    @Nullable String version, long capacity) {

  /**
   * Checks the parts.
   *
   * @param slot which slot
   * @param state its state
   * @param size the image size
   * @param sha256 the digest or null
   * @param attempts the boot attempts
   * @param version the version or null
   * @param capacity the capacity
   */
  public SlotStatus {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(state, "state");
  }

  /**
   * The digest, if the slot holds a verified image.
   *
   * @return the digest or empty
   */
  public Optional<Sha256> digest() {
    return Optional.ofNullable(sha256);
  }
}
