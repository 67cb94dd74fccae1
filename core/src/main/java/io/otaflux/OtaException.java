package io.otaflux;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * The one exception OtaFlux signals: unchecked, with a machine-readable {@link Reason} and a
 * message a person can act on (what happened, and what to do).
 *
 * <p>Failures are either <b>transient</b> (a dropped connection, a 503: trying again may work,
 * and the updater does so itself with backoff, resuming where the durable data ends) or
 * <b>non-transient</b> (a certificate that is not trusted, a digest that does not match: trying
 * again cannot help). {@link #isTransient()} tells them apart, so a retry policy is written as
 * {@code Retry.backoff(..).filter(OtaException::isTransient)}.
 *
 * <p>Messages never contain a password, a token, or a URL's user-info.
 */
public final class OtaException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** What kind of thing went wrong; each reason is a family of exit codes of the {@code ota} command. */
  public enum Reason {
    /** A bad argument or option: the caller must change the request. */
    USAGE(2),
    /** The server could not be trusted: chain, pin, hostname, dates or handshake. */
    TRUST(3),
    /** The network failed: refused, unreachable, timed out, or the connection was lost. */
    NETWORK(4),
    /** The server answered, but not with the image: an HTTP error, too many redirects, a malformed answer. */
    SERVER(5),
    /** The bytes are not the expected image: size, digest or signature mismatch. */
    INTEGRITY(6),
    /** The slot store failed or refused: too small, I/O error, busy with another update. */
    STORAGE(7),
    /** The update was aborted on request; the store is as it was. */
    ABORTED(8),
    /** A rule refused the update: a redirect to plain http, a downgrade. */
    POLICY(9);

    private final int exitCode;

    Reason(int exitCode) {
      this.exitCode = exitCode;
    }

    /**
     * The exit code of the {@code ota} command for this reason.
     *
     * @return a number from 2 to 9
     */
    public int exitCode() {
      return exitCode;
    }
  }

  private final Reason reason;
  private final boolean transientFailure;
  private final @Nullable Duration retryAfter;

  private OtaException(Reason reason, String message, @Nullable Throwable cause, boolean transientFailure,
      @Nullable Duration retryAfter) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.transientFailure = transientFailure;
    this.retryAfter = retryAfter;
  }

  /**
   * A failure that trying again cannot mend.
   *
   * @param reason what kind of failure
   * @param message what happened and what to do, for a person
   * @return the exception
   */
  public static OtaException of(Reason reason, String message) {
    return new OtaException(reason, message, null, false, null);
  }

  /**
   * A failure that trying again cannot mend, with the lower-level cause.
   *
   * @param reason what kind of failure
   * @param message what happened and what to do, for a person
   * @param cause the lower-level exception, or null
   * @return the exception
   */
  public static OtaException of(Reason reason, String message, @Nullable Throwable cause) {
    return new OtaException(reason, message, cause, false, null);
  }

  /**
   * A failure that may pass: the updater retries it with backoff and resumes.
   *
   * @param reason what kind of failure (usually {@link Reason#NETWORK} or {@link Reason#SERVER})
   * @param message what happened, for a person
   * @param cause the lower-level exception, or null
   * @return the exception
   */
  public static OtaException transientFailure(Reason reason, String message, @Nullable Throwable cause) {
    return new OtaException(reason, message, cause, true, null);
  }

  /**
   * This failure, with the delay the server asked for before the next try ({@code Retry-After}).
   *
   * @param delay how long to wait at least
   * @return a transient copy carrying the delay
   */
  public OtaException withRetryAfter(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    OtaException copy = new OtaException(reason, getMessage(), getCause(), true, delay);
    copy.setStackTrace(getStackTrace());
    return copy;
  }

  /**
   * This failure with another message, the same reason and transience, and this as its cause.
   *
   * @param message the new sentence
   * @return the new exception
   */
  public OtaException withMessage(String message) {
    return new OtaException(reason, message, this, transientFailure, retryAfter);
  }

  /**
   * This failure made non-transient (for example when the retries are used up).
   *
   * @param message the new sentence
   * @return a non-transient exception with this as its cause
   */
  public OtaException asFinal(String message) {
    return new OtaException(reason, message, this, false, null);
  }

  /**
   * Wraps anything thrown into an {@code OtaException}; an {@code OtaException} is returned as it is.
   *
   * @param error what was thrown
   * @param fallback the reason to use when the error is not an {@code OtaException}
   * @param context what was being done, to start the sentence ("Writing the slot failed")
   * @return the exception
   */
  public static OtaException wrap(Throwable error, Reason fallback, String context) {
    if (error instanceof OtaException) {
      return (OtaException) error;
    }
    String detail = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    return new OtaException(fallback, context + ": " + detail, error, false, null);
  }

  /**
   * What kind of failure this is.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * Whether trying again may succeed.
   *
   * @return true for transient failures
   */
  public boolean isTransient() {
    return transientFailure;
  }

  /**
   * The delay the server asked for before the next try, if it asked.
   *
   * @return the delay, or empty
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  @Override
  public String toString() {
    return "OtaException[" + reason + (transientFailure ? ", transient" : "") + "]: " + getMessage();
  }
}
