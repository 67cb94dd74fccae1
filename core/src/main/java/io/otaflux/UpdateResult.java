package io.otaflux;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * What a finished update did.
 *
 * @param slot the slot holding the new image
 * @param size the image size in bytes
 * @param sha256 the digest of the bytes written
 * @param effectiveUri where the image came from, after redirects, without user-info
 * @param activated whether the slot is now the trial boot choice
 * @param version the image version when known, or null
 * @param warnings what a person should know (an expired trust anchor, say)
 */
public record UpdateResult(SlotId slot, long size, Sha256 sha256, URI effectiveUri, boolean activated,
    @Nullable String version, List<String> warnings) {

  /**
   * Checks and copies the parts.
   *
   * @param slot the slot
   * @param size the size
   * @param sha256 the digest
   * @param effectiveUri the effective URL
   * @param activated whether activated
   * @param version the version or null
   * @param warnings the warnings
   */
  public UpdateResult {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(effectiveUri, "effectiveUri");
    warnings = List.copyOf(warnings);
  }

  /**
   * The version, if known.
   *
   * @return the version or empty
   */
  public Optional<String> versionIfKnown() {
    return Optional.ofNullable(version);
  }
}
