package io.otaflux.storage;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

import io.otaflux.Sha256;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.SlotWriter;

/**
 * The victim of {@link KillDuringWriteTest}, run in a child JVM: writes an image into the store
 * in {@code DIR} through the real file store, syncing every MiB. After each sync it writes half a
 * MiB more (not synced), says {@code durable N} on stdout and waits for a line on stdin before going
 * on, so that the test can kill it in the middle of a write, with unsynced bytes, at a point it
 * chooses, without sleeping.
 *
 * <p>Arguments: {@code DIR SIZE SEED VALIDATOR}.
 */
final class SlowImageWriter {

  static final int SYNC_EVERY = 1 << 20;
  static final int CHUNK = 64 * 1024;

  private SlowImageWriter() {
  }

  static byte[] image(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static ImageSpec spec(byte[] image) {
    return new ImageSpec(URI.create("https://fw.example/big.bin"), image.length, Sha256.digest(image), "9.9.9");
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    byte[] image = image(Integer.parseInt(args[1]), Long.parseLong(args[2]));
    String validator = args[3];
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    SlotWriter writer = FileSlotStore.open(dir).openWriter(spec(image)).block();
    int position = 0;
    while (position < image.length) {
      int n = Math.min(CHUNK, image.length - position);
      writer.write(ByteBuffer.wrap(image, position, n));
      position += n;
      if (position % SYNC_EVERY == 0) {
        writer.sync(validator);
        int durable = position;
        int more = Math.min(SYNC_EVERY / 2, image.length - position);
        writer.write(ByteBuffer.wrap(image, position, more));
        position += more;
        out.println("durable " + durable + " written " + position);
        if (in.readLine() == null) {
          return;
        }
      }
    }
    out.println("finished");
    writer.release();
  }
}
