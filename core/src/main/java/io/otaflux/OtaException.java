package io.otaflux;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

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
 * <p>Programs decide from {@link #detail()} (and {@link #reason()}, its family), never from the
 * message: the message is for people and may change wording at any time.
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


  /**
   * What exactly went wrong, for programs that act on it (exit codes, LwM2M Update Result, hawkBit
   * feedback, the status page). Each detail belongs to one {@link Reason}; the constants named
   * after a whole family ({@link #INVALID_REQUEST}, {@link #TRUST_FAILED}, ...) are the ones used
   * when nothing more precise is known.
   */
  public enum Detail {
    /** A bad argument, option or request. */
    INVALID_REQUEST(Reason.USAGE),
    /** A URL given by the caller is not an absolute {@code https:} URL. */
    NOT_HTTPS(Reason.USAGE),
    /** A manifest was to be used without any trusted key to check its signature. */
    SIGNATURE_CHECK_REQUIRED(Reason.USAGE),
    /** A slot store exists already where a new one was to be created. */
    STORE_EXISTS(Reason.USAGE),
    /** The boot state does not allow this operation now (nothing to roll back to, no trial to confirm). */
    NOT_ALLOWED_NOW(Reason.USAGE),

    /** The server could not be trusted, for a reason not named below. */
    TRUST_FAILED(Reason.TRUST),
    /** The chain does not lead to a trusted anchor. */
    UNTRUSTED_CHAIN(Reason.TRUST),
    /** The validated chain holds no key with a configured pin. */
    PIN_MISMATCH(Reason.TRUST),
    /** The certificate does not name the host that was asked for. */
    HOST_MISMATCH(Reason.TRUST),
    /** A certificate of the chain is expired or not yet valid. */
    CERTIFICATE_DATES(Reason.TRUST),
    /** The server offers only TLS versions older than 1.2. */
    TLS_VERSION(Reason.TRUST),
    /** The server requires a TLS client certificate (mutual TLS) and none was given. */
    CLIENT_CERT_REQUIRED(Reason.TRUST),
    /** The server refused the TLS client certificate this device presented. */
    CLIENT_CERT_REFUSED(Reason.TRUST),

    /** The network failed, for a reason not named below. */
    NETWORK_FAILED(Reason.NETWORK),
    /** The host name could not be resolved. */
    UNKNOWN_HOST(Reason.NETWORK),
    /** Nobody accepts connections at the address. */
    CONNECTION_REFUSED(Reason.NETWORK),
    /** Connecting, the handshake, the headers or the body stayed silent past the timeout. */
    TIMEOUT(Reason.NETWORK),
    /** The connection broke before the answer was complete. */
    CONNECTION_LOST(Reason.NETWORK),
    /** The proxy refused the tunnel or closed it. */
    PROXY_FAILED(Reason.NETWORK),

    /** The server's answer is not usable, for a reason not named below. */
    BAD_RESPONSE(Reason.SERVER),
    /** An HTTP status that is not a success; see {@link OtaException#httpStatus()}. */
    HTTP_STATUS(Reason.SERVER),
    /** More redirects than allowed, or a redirect loop. */
    TOO_MANY_REDIRECTS(Reason.SERVER),
    /** An answer that breaks HTTP (no status line, bad Content-Range, ...). */
    MALFORMED_RESPONSE(Reason.SERVER),
    /** A resumed answer that does not continue the first one (other validator or total size). */
    INCONSISTENT_RESPONSE(Reason.SERVER),
    /** The server ignores Range requests where they are needed. */
    RANGE_NOT_SUPPORTED(Reason.SERVER),

    /** The bytes are not the expected image, for a reason not named below. */
    INTEGRITY_FAILED(Reason.INTEGRITY),
    /** The image has another size than expected. */
    SIZE_MISMATCH(Reason.INTEGRITY),
    /** The image has another SHA-256 than expected. */
    DIGEST_MISMATCH(Reason.INTEGRITY),
    /** A signature does not verify. */
    BAD_SIGNATURE(Reason.INTEGRITY),
    /** The manifest is signed, but by no trusted key. */
    UNTRUSTED_SIGNER(Reason.INTEGRITY),
    /** The manifest (or another signed document) cannot be parsed. */
    MALFORMED_MANIFEST(Reason.INTEGRITY),
    /** A compressed or chunked image is damaged or truncated. */
    CORRUPT_IMAGE(Reason.INTEGRITY),

    /** The slot store failed with an I/O error. */
    IO_ERROR(Reason.STORAGE),
    /** The image is larger than the slot. */
    SLOT_TOO_SMALL(Reason.STORAGE),
    /** Another update holds the store. */
    STORE_BUSY(Reason.STORAGE),
    /** The file system or device is full. */
    NO_SPACE(Reason.STORAGE),
    /** The store's boot state or metadata is damaged. */
    STORE_DAMAGED(Reason.STORAGE),
    /** The slot does not hold the verified image it was to activate. */
    NOT_VERIFIED(Reason.STORAGE),

    /** The update was aborted on request. */
    ABORTED(Reason.ABORTED),

    /** A rule refused the operation, for a reason not named below. */
    POLICY_REFUSED(Reason.POLICY),
    /** The running slot is an unconfirmed trial: confirm it or roll back first. */
    TRIAL_RUNNING(Reason.POLICY),
    /** The boot choice changed (rollback, fallback) and the device has not rebooted into it yet. */
    REBOOT_PENDING(Reason.POLICY),
    /** A redirect to a URL that is not {@code https:}. */
    NON_HTTPS_REDIRECT(Reason.POLICY),
    /** The offered version is lower than the installed good one. */
    DOWNGRADE(Reason.POLICY);

    private final Reason reason;

    Detail(Reason reason) {
      this.reason = reason;
    }

    /**
     * The family this detail belongs to.
     *
     * @return the reason
     */
    public Reason reason() {
      return reason;
    }

    /**
     * The detail used when only the family is known.
     *
     * @param reason the family
     * @return its general detail
     */
    static Detail general(Reason reason) {
      switch (Objects.requireNonNull(reason, "reason")) {
        case USAGE: return INVALID_REQUEST;
        case TRUST: return TRUST_FAILED;
        case NETWORK: return NETWORK_FAILED;
        case SERVER: return BAD_RESPONSE;
        case INTEGRITY: return INTEGRITY_FAILED;
        case STORAGE: return IO_ERROR;
        case ABORTED: return ABORTED;
        case POLICY: return POLICY_REFUSED;
        default: throw new IllegalArgumentException(reason.name());
      }
    }
  }

  private final Detail detail;
  private final int httpStatus;
  private final boolean transientFailure;
  private final @Nullable Duration retryAfter;

  private OtaException(Detail detail, int httpStatus, String message, @Nullable Throwable cause,
      boolean transientFailure, @Nullable Duration retryAfter) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.detail = Objects.requireNonNull(detail, "detail");
    this.httpStatus = httpStatus;
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
    return new OtaException(Detail.general(reason), 0, message, null, false, null);
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
    return new OtaException(Detail.general(reason), 0, message, cause, false, null);
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
    return new OtaException(Detail.general(reason), 0, message, cause, true, null);
  }

  /**
   * A failure that trying again cannot mend.
   *
   * @param detail what exactly went wrong (its reason follows from it)
   * @param message what happened and what to do, for a person
   * @return the exception
   */
  public static OtaException of(Detail detail, String message) {
    return new OtaException(detail, 0, message, null, false, null);
  }

  /**
   * A failure that trying again cannot mend, with the lower-level cause.
   *
   * @param detail what exactly went wrong (its reason follows from it)
   * @param message what happened and what to do, for a person
   * @param cause the lower-level exception, or null
   * @return the exception
   */
  public static OtaException of(Detail detail, String message, @Nullable Throwable cause) {
    return new OtaException(detail, 0, message, cause, false, null);
  }

  /**
   * A failure that may pass: the updater retries it with backoff and resumes.
   *
   * @param detail what exactly went wrong (its reason follows from it)
   * @param message what happened, for a person
   * @param cause the lower-level exception, or null
   * @return the exception
   */
  public static OtaException transientFailure(Detail detail, String message, @Nullable Throwable cause) {
    return new OtaException(detail, 0, message, cause, true, null);
  }

  /**
   * An HTTP answer whose status is not a success ({@link Detail#HTTP_STATUS}).
   *
   * @param status the HTTP status code, 100 to 999
   * @param message what happened and what to do, for a person
   * @param isTransient whether trying again may help (a 503, say)
   * @return the exception
   */
  public static OtaException httpStatus(int status, String message, boolean isTransient) {
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("not an HTTP status: " + status);
    }
    return new OtaException(Detail.HTTP_STATUS, status, message, null, isTransient, null);
  }

  /**
   * This failure, with the delay the server asked for before the next try ({@code Retry-After}).
   *
   * @param delay how long to wait at least
   * @return a transient copy carrying the delay
   */
  public OtaException withRetryAfter(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    OtaException copy = new OtaException(detail, httpStatus, String.valueOf(getMessage()), getCause(), true, delay);
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
    return new OtaException(detail, httpStatus, message, this, transientFailure, retryAfter);
  }

  /**
   * This failure made non-transient (for example when the retries are used up).
   *
   * @param message the new sentence
   * @return a non-transient exception with this as its cause
   */
  OtaException asFinal(String message) {
    return new OtaException(detail, httpStatus, message, this, false, null);
  }

  /** {@link io.otaflux.internal.Wrapping#wrap}, for this package's callers. */
  static OtaException wrap(Throwable error, Reason fallback, String context) {
    return io.otaflux.internal.Wrapping.wrap(error, fallback, context);
  }

  /**
   * What kind of failure this is.
   *
   * @return the reason
   */
  public Reason reason() {
    return detail.reason();
  }

  /**
   * What exactly went wrong: what programs switch over.
   *
   * @return the detail
   */
  public Detail detail() {
    return detail;
  }

  /**
   * The HTTP status of a {@link Detail#HTTP_STATUS} failure.
   *
   * @return the status, or empty for other failures
   */
  public OptionalInt httpStatus() {
    return httpStatus == 0 ? OptionalInt.empty() : OptionalInt.of(httpStatus);
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
    return "OtaException[" + detail.reason() + "/" + detail
        + (httpStatus == 0 ? "" : " " + httpStatus) + (transientFailure ? ", transient" : "") + "]: " + getMessage();
  }
}
