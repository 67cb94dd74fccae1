package io.otaflux;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

import org.jspecify.annotations.Nullable;

/**
 * What an update reports while it runs. In order: one {@link Resolved} per attempt (the first
 * one before any byte is written), {@link Progress} (throttled), {@link Retrying} before each
 * resumed attempt, then {@link Verified} and, when the request activates, {@link Activated}.
 * Failures are not events: they end the stream with an {@link OtaException}.
 */
public sealed interface UpdateEvent {

  /** The size of an image whose length is not known (a chunked answer with no length). */
  long UNKNOWN_SIZE = -1;

  /**
   * The source answered: where the image really is, how large it is, and where writing resumes.
   *
   * @param effectiveUri the URL after redirects, without user-info
   * @param totalBytes the image size, or {@link #UNKNOWN_SIZE}
   * @param resumedFrom the byte offset this attempt continues from (0 for a fresh start)
   * @param slot the slot being written
   * @param warnings things a person should know that do not stop the update (an expired trust anchor, say)
   */
  record Resolved(URI effectiveUri, long totalBytes, long resumedFrom, SlotId slot, List<String> warnings)
      implements UpdateEvent {
    /**
     * Checks and copies the parts.
     *
     * @param effectiveUri the effective URL
     * @param totalBytes the size or unknown
     * @param resumedFrom the resume offset
     * @param slot the slot
     * @param warnings the warnings
     */
    public Resolved {
      Objects.requireNonNull(effectiveUri, "effectiveUri");
      Objects.requireNonNull(slot, "slot");
      warnings = List.copyOf(warnings);
    }
  }

  /**
   * Bytes written to the slot so far.
   *
   * @param bytesDone bytes written (including a resumed prefix)
   * @param totalBytes the image size, or {@link #UNKNOWN_SIZE}
   * @param bytesPerSecond the recent write rate
   */
  record Progress(long bytesDone, long totalBytes, double bytesPerSecond) implements UpdateEvent {
    /**
     * Whether the image size is known.
     *
     * @return true when {@code totalBytes} is not {@link #UNKNOWN_SIZE}
     */
    public boolean isTotalKnown() {
      return totalBytes >= 0;
    }

    /**
     * The fraction done, from 0 to 1, when the size is known.
     *
     * @return the fraction, or empty
     */
    public OptionalDouble fraction() {
      if (totalBytes < 0) {
        return OptionalDouble.empty();
      }
      return OptionalDouble.of(totalBytes == 0 ? 1.0 : Math.min(1.0, (double) bytesDone / totalBytes));
    }
  }

  /**
   * An attempt failed transiently; the update tries again from the durable offset after
   * {@code delay}.
   *
   * <p>The delay is the retry policy's backoff, or longer when the server asked for it with
   * {@code Retry-After}; a server's wish longer than the policy's maximum backoff is cut to that
   * maximum ({@code delayCapped}, and the cause's sentence says so), so no server can park an
   * update (and the store's lock) for a day.
   *
   * @param attempt the number of the attempt about to start (2 for the first retry)
   * @param resumeOffset the byte offset it resumes from
   * @param cause why the last attempt failed
   * @param delay how long the update waits before the attempt
   * @param delayCapped whether the server asked (Retry-After) for a longer wait than the retry
   *     policy's maximum backoff, which was used instead
   */
  record Retrying(int attempt, long resumeOffset, OtaException cause, Duration delay, boolean delayCapped)
      implements UpdateEvent {
    /**
     * Checks the cause and the delay.
     *
     * @param attempt the attempt
     * @param resumeOffset the offset
     * @param cause the cause
     * @param delay the wait before the attempt
     * @param delayCapped whether a server's longer wish was cut to the maximum backoff
     */
    public Retrying {
      Objects.requireNonNull(cause, "cause");
      Objects.requireNonNull(delay, "delay");
    }

    /**
     * A retry whose wait is not known (zero) and was not capped.
     *
     * @param attempt the attempt
     * @param resumeOffset the offset
     * @param cause the cause
     */
    public Retrying(int attempt, long resumeOffset, OtaException cause) {
      this(attempt, resumeOffset, cause, Duration.ZERO, false);
    }
  }

  /**
   * Every byte is written and synced, and the size and digest are what was expected.
   *
   * @param slot the slot holding the image
   * @param size the image size
   * @param sha256 the digest of the bytes written
   */
  record Verified(SlotId slot, long size, Sha256 sha256) implements UpdateEvent {
    /**
     * Checks the parts.
     *
     * @param slot the slot
     * @param size the size
     * @param sha256 the digest
     */
    public Verified {
      Objects.requireNonNull(slot, "slot");
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /**
   * A delta update could not be used: the update says why and downloads the whole (compressed)
   * image instead, or fails with this reason when only a delta was allowed. Never silent.
   *
   * @param reason why, in a sentence a person can act on
   * @param detail what kind of obstacle it was (no index, no Range support, an unreadable running slot), or
   *     null when the delta was declined because it would download as much as the whole image
   */
  record DeltaFallback(String reason, OtaException.@Nullable Detail detail) implements UpdateEvent {
    /**
     * Checks the parts.
     *
     * @param reason the sentence
     * @param detail the kind
     */
    public DeltaFallback {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * The slot is the next boot choice, as a trial.
   *
   * @param slot the slot that boots next
   */
  record Activated(SlotId slot) implements UpdateEvent {
    /**
     * Checks the slot.
     *
     * @param slot the slot
     */
    public Activated {
      Objects.requireNonNull(slot, "slot");
    }
  }
}
