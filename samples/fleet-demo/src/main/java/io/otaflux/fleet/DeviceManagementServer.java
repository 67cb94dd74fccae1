package io.otaflux.fleet;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.leshan.core.ResponseCode;
import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.request.ExecuteRequest;
import org.eclipse.leshan.core.request.ObserveRequest;
import org.eclipse.leshan.core.request.ReadRequest;
import org.eclipse.leshan.core.request.WriteRequest;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.core.response.ObserveCompositeResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.LeshanServerBuilder;
import org.eclipse.leshan.server.californium.endpoint.CaliforniumServerEndpointsProvider;
import org.eclipse.leshan.server.californium.endpoint.coaps.CoapsServerProtocolProvider;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.security.InMemorySecurityStore;
import org.eclipse.leshan.server.security.NonUniqueSecurityInfoException;
import org.eclipse.leshan.server.security.SecurityInfo;

import reactor.core.publisher.Sinks;

/**
 * The demo's device-management server: an Eclipse Leshan server on 127.0.0.1 (coaps, PSK per
 * device) that records what each device reports through observation of State and Update Result.
 */
final class DeviceManagementServer implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(60);

  /** What the server knows of one device. */
  static final class Device {
    final List<Long> states = new CopyOnWriteArrayList<>();
    final List<Long> results = new CopyOnWriteArrayList<>();
    final Sinks.Many<Long> stateSink = Sinks.many().replay().all();
    final Sinks.Many<Long> resultSink = Sinks.many().replay().all();
    final Sinks.One<String> registered = Sinks.one();
  }

  private final InMemorySecurityStore security = new InMemorySecurityStore();
  private final Map<String, Device> devices = new ConcurrentHashMap<>();
  private final LeshanServer server;

  DeviceManagementServer() {
    CaliforniumServerEndpointsProvider.Builder endpoints =
        new CaliforniumServerEndpointsProvider.Builder(new CoapsServerProtocolProvider());
    endpoints.addEndpoint(new InetSocketAddress("127.0.0.1", 0), Protocol.COAPS);
    LeshanServerBuilder builder = new LeshanServerBuilder();
    builder.setEndpointsProviders(endpoints.build());
    builder.setSecurityStore(security);
    server = builder.build();
    server.getRegistrationService().addListener(new RegistrationListener() {
      @Override
      public void registered(Registration registration, Registration previous, Collection<Observation> observations) {
        device(registration.getEndpoint()).registered.tryEmitValue(registration.getId());
      }

      @Override
      public void updated(RegistrationUpdate update, Registration updated, Registration previous) {
      }

      @Override
      public void unregistered(Registration registration, Collection<Observation> observations, boolean expired,
          Registration newReg) {
      }
    });
    server.getObservationService().addListener(new ObservationListener() {
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
    server.start();
  }

  URI uri() {
    return URI.create("coaps://127.0.0.1:" + server.getEndpoint(Protocol.COAPS).getURI().getPort());
  }

  void allow(String endpoint, byte[] key) {
    try {
      security.add(SecurityInfo.newPreSharedKeyInfo(endpoint, endpoint, key));
    } catch (NonUniqueSecurityInfoException e) {
      throw new IllegalStateException(e);
    }
  }

  Device device(String endpoint) {
    return devices.computeIfAbsent(endpoint, e -> new Device());
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

  private Registration registration(String endpoint) {
    Registration r = server.getRegistrationService().getByEndpoint(endpoint);
    if (r == null) {
      throw new IllegalStateException(endpoint + " is not registered");
    }
    return r;
  }

  void observeFirmware(String endpoint) throws InterruptedException {
    Registration r = registration(endpoint);
    record(endpoint, "/5/0/3", check(server.send(r, new ObserveRequest(5, 0, 3), WAIT.toMillis()), "observe State"));
    record(endpoint, "/5/0/5", check(server.send(r, new ObserveRequest(5, 0, 5), WAIT.toMillis()), "observe Result"));
  }

  void writePackageUri(String endpoint, String uri) throws InterruptedException {
    check(server.send(registration(endpoint), new WriteRequest(5, 0, 1, uri), WAIT.toMillis()), "write Package URI");
  }

  void executeUpdate(String endpoint) throws InterruptedException {
    check(server.send(registration(endpoint), new ExecuteRequest(5, 0, 2), WAIT.toMillis()), "execute Update");
  }

  Object read(String endpoint, String path) throws InterruptedException {
    ReadResponse response = check(server.send(registration(endpoint), new ReadRequest(path), WAIT.toMillis()),
        "read " + path);
    return ((LwM2mSingleResource) response.getContent()).getValue();
  }

  private static <T extends LwM2mResponse> T check(T response, String what) {
    if (response == null) {
      throw new IllegalStateException(what + ": no answer");
    }
    if (!response.isSuccess() && response.getCode() != ResponseCode.CONTENT) {
      throw new IllegalStateException(what + ": " + response.getCode() + " " + response.getErrorMessage());
    }
    return response;
  }

  @Override
  public void close() {
    server.destroy();
  }
}
