package io.otaflux.hawkbit;

import java.util.Objects;

/**
 * An action that waits for the user's consent ({@code confirmationBase}): what the application
 * shows before it answers.
 *
 * @param actionId the action
 * @param name the software module's name
 * @param version the software module's version
 * @param size the image size in bytes
 */
public record ConsentRequest(long actionId, String name, String version, long size) {
  /**
   * Checks the parts.
   *
   * @param actionId the action
   * @param name the name
   * @param version the version
   * @param size the size
   */
  public ConsentRequest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(version, "version");
  }
}
