package io.otaflux.transport;

import io.otaflux.UpdateRequest;
import io.otaflux.testkit.FirmwareSourceCompatibilityKit;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

@ExtendWith(NoLeaks.class)
class HttpsFirmwareSourceKitTest extends FirmwareSourceCompatibilityKit {

  @RegisterExtension
  final Servers servers = new Servers();

  @Override
  protected Served serve(byte[] image) {
    TestServer server = servers.https().route("/fw.bin", Routes.image(image));
    return new Served(Servers.trustingRoot(), UpdateRequest.of(server.url("/fw.bin")));
  }
}
