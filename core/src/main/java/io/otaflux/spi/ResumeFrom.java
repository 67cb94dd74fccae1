package io.otaflux.spi;

import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Where to open an image: a byte offset and the validator (an HTTP ETag or Last-Modified) of
 * the image the bytes before it came from, so that a changed image is sent from the start.
 *
 * @param offset the first byte wanted
 * @param validator the validator of the image the prefix came from, or null
 */
public record ResumeFrom(long offset, @Nullable String validator) {

  private static final ResumeFrom START = new ResumeFrom(0, null);

  /**
   * Checks the offset.
   *
   * @param offset the first byte wanted
   * @param validator the validator or null
   */
  public ResumeFrom {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be >= 0, was " + offset);
    }
  }

  /**
   * From the first byte.
   *
   * @return offset 0, no validator
   */
  public static ResumeFrom start() {
    return START;
  }

  /**
   * The validator, if there is one.
   *
   * @return the validator or empty
   */
  public Optional<String> validatorIfKnown() {
    return Optional.ofNullable(validator);
  }
}
