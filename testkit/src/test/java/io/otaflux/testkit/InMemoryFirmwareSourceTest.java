package io.otaflux.testkit;

import java.net.URI;

import io.otaflux.UpdateRequest;

class InMemoryFirmwareSourceTest extends FirmwareSourceCompatibilityKit {

  @Override
  protected Served serve(byte[] image) {
    return new Served(InMemoryFirmwareSource.of(image).chunkSize(4096),
        UpdateRequest.of(URI.create("memory://firmware/image.bin")));
  }
}
