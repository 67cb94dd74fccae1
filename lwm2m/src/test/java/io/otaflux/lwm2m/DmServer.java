package io.otaflux.lwm2m;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.request.ExecuteRequest;
import org.eclipse.leshan.core.request.ObserveRequest;
import org.eclipse.leshan.core.request.ReadRequest;
import org.eclipse.leshan.core.request.WriteRequest;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.ObserveCompositeResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.LeshanServerBuilder;
import org.eclipse.leshan.server.californium.endpoint.CaliforniumServerEndpointsProvider;
import org.eclipse.leshan.server.californium.endpoint.coap.CoapServerProtocolProvider;
import org.eclipse.leshan.server.californium.endpoint.coaps.CoapsServerProtocolProvider;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.security.InMemorySecurityStore;
import org.eclipse.leshan.server.security.SecurityInfo;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * A real Eclipse Leshan server on 127.0.0.1 (coap and coaps), as a device-management server
 * drives a fleet: PSK credentials per endpoint, registrations, observation of Firmware Update
 * State and Update Result, writes and executes. What every device showed is kept for the asserts.
 */
public final class DmServer implements AutoCloseable {

  public static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** What the server saw of one device. */
  public static final class Device {
    public final List<Long> states = new CopyOnWriteArrayList<>();
    public final List<Long> results = new CopyOnWriteArrayList<>();
    public final Sinks.Many<Long> stateSink = Sinks.many().replay().all();
    public final Sinks.Many<Long> resultSink = Sinks.many().replay().all();
    public final Sinks.Many<String> registrations = Sinks.many().replay().all();
    /** "deregistered" for each deregistration the server answered, "expired" for each lifetime that ran out. */
    public final Sinks.Many<String> deregistrations = Sinks.many().replay().all();
    /** Run on a thread of its own as soon as the server has sent a registration's answer. */
    public volatile @Nullable Runnable onRegistered;

    /** Waits until the device reports this State (now or later). */
    public void awaitState(long state) {
      stateSink.asFlux().filter(s -> s == state).blockFirst(TIMEOUT);
    }

    /** Waits until the device reports this Update Result. */
    public void awaitResult(long result) {
      resultSink.asFlux().filter(r -> r == result).blockFirst(TIMEOUT);
    }

    /** Waits for the n-th registration of this device (1 for the first). */
    public String awaitRegistration(int n) {
      return registrations.asFlux().skip(n - 1L).blockFirst(TIMEOUT);
    }
  }

  private final InMemorySecurityStore security = new InMemorySecurityStore();
  private final Map<String, Device> devices = new ConcurrentHashMap<>();
  private final int coapPort;
  private final int coapsPort;
  private LeshanServer server;

  private DmServer(int coapPort, int coapsPort) {
    this.server = build(coapPort, coapsPort);
    server.start();
    this.coapPort = server.getEndpoint(Protocol.COAP).getURI().getPort();
    this.coapsPort = server.getEndpoint(Protocol.COAPS).getURI().getPort();
  }

  public static DmServer start() {
    return new DmServer(0, 0);
  }

  /** A server whose coaps endpoint is on this port (coap on any). */
  public static DmServer startOn(int coapsPort) {
    return new DmServer(0, coapsPort);
  }

  private LeshanServer build(int coap, int coaps) {
    CaliforniumServerEndpointsProvider.Builder endpoints = new CaliforniumServerEndpointsProvider.Builder(
        new CoapServerProtocolProvider(), new CoapsServerProtocolProvider());
    endpoints.addEndpoint(new InetSocketAddress("127.0.0.1", coap), Protocol.COAP);
    endpoints.addEndpoint(new InetSocketAddress("127.0.0.1", coaps), Protocol.COAPS);
    LeshanServerBuilder builder = new LeshanServerBuilder();
    builder.setEndpointsProviders(endpoints.build());
    builder.setSecurityStore(security);
    LeshanServer s = builder.build();
    s.getRegistrationService().addListener(new RegistrationListener() {
      @Override
      public void registered(Registration registration, Registration previous, Collection<Observation> observations) {
        Device d = device(registration.getEndpoint());
        Runnable hook = d.onRegistered;
        if (hook != null) {
          new Thread(hook, "on-registered").start(); // the answer is sent; the client may not have read it yet
        }
        d.registrations.tryEmitNext(registration.getId());
      }

      @Override
      public void updated(RegistrationUpdate update, Registration updated, Registration previous) {
      }

      @Override
      public void unregistered(Registration registration, Collection<Observation> observations, boolean expired,
          Registration newReg) {
        if (newReg == null) {
          device(registration.getEndpoint()).deregistrations.tryEmitNext(expired ? "expired" : "deregistered");
        }
      }
    });
    s.getObservationService().addListener(new ObservationListener() {
      @Override
      public void newObservation(Observation observation, Registration registration) {
      }

      @Override
      public void cancelled(Observation observation) {
      }

      @Override
      public void onResponse(SingleObservation observation, Registration registration, ObserveResponse response) {
        record(registration.getEndpoint(), observation.getPath().toString(), response);
      }

      @Override
      public void onResponse(CompositeObservation observation, Registration registration,
          ObserveCompositeResponse response) {
      }

      @Override
      public void onError(Observation observation, Registration registration, Exception error) {
      }
    });
    return s;
  }

  private void record(String endpoint, String path, ObserveResponse response) {
    if (!response.isSuccess() || !(response.getContent() instanceof LwM2mSingleResource)) {
      return;
    }
    long value = ((Number) ((LwM2mSingleResource) response.getContent()).getValue()).longValue();
    Device d = device(endpoint);
    synchronized (d) {
      if (path.equals("/5/0/3")) {
        d.states.add(value);
        d.stateSink.tryEmitNext(value);
      } else if (path.equals("/5/0/5")) {
        d.results.add(value);
        d.resultSink.tryEmitNext(value);
      }
    }
  }

  public Device device(String endpoint) {
    return devices.computeIfAbsent(endpoint, e -> new Device());
  }

  public URI coapsUri() {
    return URI.create("coaps://127.0.0.1:" + coapsPort);
  }

  public URI coapUri() {
    return URI.create("coap://127.0.0.1:" + coapPort);
  }

  public void addPsk(String endpoint, String identity, byte[] key) {
    try {
      security.add(SecurityInfo.newPreSharedKeyInfo(endpoint, identity, key));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public Registration registration(String endpoint) {
    Registration r = server.getRegistrationService().getByEndpoint(endpoint);
    if (r == null) {
      throw new IllegalStateException(endpoint + " is not registered");
    }
    return r;
  }

  public boolean isRegistered(String endpoint) {
    return server.getRegistrationService().getByEndpoint(endpoint) != null;
  }

  public Flux<String> registrations(String endpoint) {
    return device(endpoint).registrations.asFlux();
  }

  /** Observes State and Update Result; the current values are recorded first. */
  public void observeFirmware(String endpoint) throws InterruptedException {
    Registration r = registration(endpoint);
    ObserveResponse state = server.send(r, new ObserveRequest(5, 0, 3), TIMEOUT.toMillis());
    ObserveResponse result = server.send(r, new ObserveRequest(5, 0, 5), TIMEOUT.toMillis());
    if (state == null || !state.isSuccess() || result == null || !result.isSuccess()) {
      throw new IllegalStateException("observe failed: " + state + " " + result);
    }
    record(endpoint, "/5/0/3", state);
    record(endpoint, "/5/0/5", result);
  }

  public WriteResponse writePackageUri(String endpoint, String uri) throws InterruptedException {
    return server.send(registration(endpoint), new WriteRequest(5, 0, 1, uri), TIMEOUT.toMillis());
  }

  public WriteResponse writePackage(String endpoint, byte[] bytes) throws InterruptedException {
    return server.send(registration(endpoint), new WriteRequest(5, 0, 0, bytes), TIMEOUT.toMillis());
  }

  public ExecuteResponse executeUpdate(String endpoint) throws InterruptedException {
    return server.send(registration(endpoint), new ExecuteRequest(5, 0, 2), TIMEOUT.toMillis());
  }

  public ExecuteResponse executeReboot(String endpoint) throws InterruptedException {
    return server.send(registration(endpoint), new ExecuteRequest(3, 0, 4), TIMEOUT.toMillis());
  }

  public Object read(String endpoint, String path) throws InterruptedException {
    ReadResponse response = server.send(registration(endpoint), new ReadRequest(path), TIMEOUT.toMillis());
    if (response == null || !response.isSuccess()) {
      throw new IllegalStateException("read " + path + " failed: " + response);
    }
    if (response.getContent() instanceof LwM2mSingleResource) {
      return ((LwM2mSingleResource) response.getContent()).getValue();
    }
    return response.getContent();
  }

  /** Stops the server, forgetting every registration, and starts a new one on the same ports. */
  public void restart() {
    server.destroy();
    server = build(coapPort, coapsPort);
    server.start();
  }

  @Override
  public void close() {
    server.destroy();
  }
}
