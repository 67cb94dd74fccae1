package io.otaflux.transport;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import io.otaflux.spi.ImageDownload;

/** Reads bodies in tests. */
final class FirmwareBytes {

  private FirmwareBytes() {
  }

  static byte[] readAll(ImageDownload download) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    download.body().map(FirmwareBytes::bytes).doOnNext(out::writeBytes).blockLast(Servers.TIMEOUT);
    return out.toByteArray();
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.get(b);
    return b;
  }
}
