package io.otaflux.lwm2m;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The agents a test started, each stopped after the test ({@code @RegisterExtension}). */
final class Agents implements AfterEachCallback {

  private final List<Lwm2mAgent> running = new CopyOnWriteArrayList<>();

  /** Builds and starts the agent; it is stopped after the test unless the test {@link #stop stops} it. */
  Lwm2mAgent start(Lwm2mAgent.Builder builder) {
    Lwm2mAgent agent = builder.build();
    running.add(agent);
    agent.start();
    return agent;
  }

  /** Stops the agent now (the gateway reboots, say). */
  void stop(Lwm2mAgent agent) {
    agent.stop();
    running.remove(agent);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    running.forEach(Lwm2mAgent::stop);
    running.clear();
  }
}
