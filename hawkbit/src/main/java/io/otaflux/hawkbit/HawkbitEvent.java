package io.otaflux.hawkbit;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import io.otaflux.OtaException;

import org.jspecify.annotations.Nullable;

/**
 * What a {@link HawkbitClient} reports while it runs, for logs and UIs: polls, deployments, the
 * feedback it sent, consent questions, cancellations, and failures that do not stop it.
 */
public sealed interface HawkbitEvent {

  /** How hawkBit wants a download or an installation handled ({@code skip}, {@code attempt}, {@code forced}). */
  enum Handling {
    /** Not now (outside a maintenance window, or download only). */
    SKIP,
    /** A soft assignment: the device may choose its moment. */
    ATTEMPT,
    /** A forced assignment: as soon as possible. */
    FORCED
  }

  /**
   * The server answered a poll.
   *
   * @param nextPoll when the next poll is due ({@code config.polling.sleep}, with jitter)
   */
  record Polled(Duration nextPoll) implements HawkbitEvent {
    /**
     * Checks the delay.
     *
     * @param nextPoll the delay
     */
    public Polled {
      Objects.requireNonNull(nextPoll, "nextPoll");
    }
  }

  /**
   * hawkBit assigned an image and the client starts on it.
   *
   * @param actionId the action
   * @param version the software module's version
   * @param download how to download
   * @param update how to install
   * @param maintenanceWindow true/false when a maintenance window is defined (open or not), null when none is
   */
  record DeploymentStarted(long actionId, String version, Handling download, Handling update,
      @Nullable Boolean maintenanceWindow) implements HawkbitEvent {
    /**
     * Checks the parts.
     *
     * @param actionId the action
     * @param version the version
     * @param download the download handling
     * @param update the update handling
     * @param maintenanceWindow the window or null
     */
    public DeploymentStarted {
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(download, "download");
      Objects.requireNonNull(update, "update");
    }
  }

  /**
   * Feedback the server accepted for an action.
   *
   * @param actionId the action
   * @param execution {@code proceeding}, {@code downloaded}, {@code closed}, {@code rejected} ...
   * @param finished {@code none}, {@code success} or {@code failure}
   * @param details the details, for a person
   */
  record FeedbackSent(long actionId, String execution, String finished, List<String> details)
      implements HawkbitEvent {
    /**
     * Checks and copies the parts.
     *
     * @param actionId the action
     * @param execution the execution status
     * @param finished the result
     * @param details the details
     */
    public FeedbackSent {
      Objects.requireNonNull(execution, "execution");
      Objects.requireNonNull(finished, "finished");
      details = List.copyOf(details);
    }
  }

  /**
   * The action needs the user's consent before it starts: the client's consent handler is asked
   * (without one, the action waits for a consent given on the server).
   *
   * @param request what is asked
   */
  record ConsentRequested(ConsentRequest request) implements HawkbitEvent {
    /**
     * Checks the request.
     *
     * @param request the request
     */
    public ConsentRequested {
      Objects.requireNonNull(request, "request");
    }
  }

  /**
   * hawkBit asked to cancel an action.
   *
   * @param actionId the action to stop
   * @param accepted true when it was cancelled, false when it was too late (activated already)
   */
  record CancelRequested(long actionId, boolean accepted) implements HawkbitEvent {
  }

  /**
   * Something failed and the client goes on (a poll refused or unreachable, a feedback not
   * delivered); it tries again after {@code retryIn}.
   *
   * @param message what happened and what to do, for a person; never a token
   * @param detail what exactly failed
   * @param retryIn when the client tries again
   */
  record Failed(String message, OtaException.Detail detail, Duration retryIn) implements HawkbitEvent {
    /**
     * Checks the parts.
     *
     * @param message the message
     * @param detail the detail
     * @param retryIn the delay
     */
    public Failed {
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(detail, "detail");
      Objects.requireNonNull(retryIn, "retryIn");
    }
  }
}
