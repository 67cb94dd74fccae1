package io.otaflux.lwm2m;

import java.util.Objects;

import io.otaflux.OtaException;

import org.jspecify.annotations.Nullable;

/**
 * What an {@link Lwm2mAgent} reports while it runs, for logs and UIs: registrations, State and
 * Update Result changes, and failures that do not stop the agent.
 */
public sealed interface AgentEvent {

  /**
   * The server accepted the registration (or a re-registration).
   *
   * @param endpoint the endpoint name
   * @param registrationId the id the server gave
   */
  record Registered(String endpoint, String registrationId) implements AgentEvent {
    /**
     * Checks the parts.
     *
     * @param endpoint the endpoint
     * @param registrationId the id
     */
    public Registered {
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(registrationId, "registrationId");
    }
  }

  /**
   * The agent deregistered (on {@link Lwm2mAgent#stop()}): the server answered the deregistration.
   *
   * @param endpoint the endpoint name
   */
  record Deregistered(String endpoint) implements AgentEvent {
    /**
     * Checks the endpoint.
     *
     * @param endpoint the endpoint
     */
    public Deregistered {
      Objects.requireNonNull(endpoint, "endpoint");
    }
  }

  /**
   * The agent stopped without a deregistration the server answered: it was not registered, the
   * server did not answer in time, or refused. The server may still list the device until its
   * registration's lifetime ends.
   *
   * @param endpoint the endpoint name
   * @param message what happened, for a person
   */
  record DeregistrationFailed(String endpoint, String message) implements AgentEvent {
    /**
     * Checks the parts: a failure says what happened.
     *
     * @param endpoint the endpoint
     * @param message the message, not blank
     */
    public DeregistrationFailed {
      Objects.requireNonNull(endpoint, "endpoint");
      if (Objects.requireNonNull(message, "message").isBlank()) {
        throw new IllegalArgumentException("A deregistration failure says what happened.");
      }
    }
  }

  /**
   * The Firmware Update State changed.
   *
   * @param state the new state
   */
  record StateChanged(FirmwareState state) implements AgentEvent {
    /**
     * Checks the state.
     *
     * @param state the state
     */
    public StateChanged {
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * The Update Result changed.
   *
   * @param result the new result
   */
  record ResultChanged(FirmwareResult result) implements AgentEvent {
    /**
     * Checks the result.
     *
     * @param result the result
     */
    public ResultChanged {
      Objects.requireNonNull(result, "result");
    }
  }

  /**
   * Something failed and the agent goes on: a registration that timed out or was refused (it is
   * tried again with backoff), or a download or update (its Update Result says which).
   *
   * @param message what happened, for a person; never a key or a URL's user-info
   * @param reason the update's failure reason, or null for a registration failure
   */
  record Failed(String message, OtaException.@Nullable Reason reason) implements AgentEvent {
    /**
     * Checks the message.
     *
     * @param message the message
     * @param reason the reason or null
     */
    public Failed {
      Objects.requireNonNull(message, "message");
    }
  }
}
