package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileMediumTest {

  @TempDir
  Path dir;

  @Test
  void writesPastSeveralWriteBehindSyncsReadBackWhole() throws Exception {
    byte[] image = new byte[(int) (FileMedium.WRITE_BEHIND_BYTES * 2 + 12345)];
    new Random(1).nextBytes(image);
    Path file = dir.resolve("slot.img");
    try (Medium.Handle handle = FileMedium.INSTANCE.open(file, Medium.Mode.CREATE_EMPTY)) {
      int chunk = 64 * 1024;
      for (int at = 0; at < image.length; at += chunk) {
        handle.write(ByteBuffer.wrap(image, at, Math.min(chunk, image.length - at)), at);
      }
      handle.force();
      assertThat(handle.size()).isEqualTo(image.length);
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(image);
  }

  @Test
  void closingWhileABackgroundSyncMayRunWaitsForItAndCloses() throws Exception {
    Path file = dir.resolve("slot.img");
    Medium.Handle handle = FileMedium.INSTANCE.open(file, Medium.Mode.CREATE_EMPTY);
    byte[] block = new byte[(int) FileMedium.WRITE_BEHIND_BYTES];
    handle.write(ByteBuffer.wrap(block), 0); // starts a background sync
    handle.close();
    assertThat(Files.size(file)).isEqualTo(block.length);
  }
}
