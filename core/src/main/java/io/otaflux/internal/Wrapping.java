package io.otaflux.internal;

import io.otaflux.OtaException;

/** Anything thrown, as an {@code OtaException}, the same way in every module. */
public final class Wrapping {

  private Wrapping() {
  }

  /**
   * Wraps anything thrown into an {@code OtaException}; an {@code OtaException} is returned as it is.
   *
   * @param error what was thrown
   * @param fallback the reason to use when the error is not an {@code OtaException}
   * @param context what was being done, to start the sentence ("Writing the slot failed")
   * @return the exception
   */
  public static OtaException wrap(Throwable error, OtaException.Reason fallback, String context) {
    if (error instanceof OtaException) {
      return (OtaException) error;
    }
    String detail = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    return OtaException.of(fallback, context + ": " + detail, error);
  }
}
