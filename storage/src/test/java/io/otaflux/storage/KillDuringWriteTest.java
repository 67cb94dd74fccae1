package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.testkit.InMemoryFirmwareSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real {@code kill -9} of a process in the middle of writing a slot, then a resumed update. */
class KillDuringWriteTest {

  private static final int SIZE = 12 << 20;
  private static final long SEED = 42;
  private static final String VALIDATOR = "\"kill-test-etag\"";

  @TempDir
  Path dir;

  @Test
  @Timeout(60)
  void anUpdateKilledMidWriteResumesFromTheDurableOffsetAndVerifies() throws Exception {
    FileSlotStore.init(dir, 16 << 20);
    byte[] image = SlowImageWriter.image(SIZE, SEED);
    Process child = new ProcessBuilder(javaBinary(), "-Xmx128m", "-cp", System.getProperty("java.class.path"),
        SlowImageWriter.class.getName(), dir.toString(), Integer.toString(SIZE), Long.toString(SEED), VALIDATOR)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    long durable;
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Writer answers = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
      while (true) {
        String line = lines.readLine();
        assertThat(line).as("the child reports its progress").isNotNull().startsWith("durable ");
        durable = Long.parseLong(line.split(" ")[1]);
        if (durable >= 5 << 20) {
          break;
        }
        answers.write("go\n");
        answers.flush();
      }
      // the child holds the store now, with half a MiB written past the last sync
      StoreStatus seen = FileSlotStore.open(dir).status().block(Duration.ofSeconds(5));
      assertThat(seen.slot(SlotId.B).state()).isEqualTo(SlotState.WRITING);
      assertThat(seen.slot(SlotId.B).size()).as("the journal, seen from another process").isEqualTo(durable);
      assertThatThrownBy(() -> FileSlotStore.open(dir).openWriter(SlowImageWriter.spec(image)).block())
          .as("a second update from another process")
          .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage()).contains("busy"));
      assertThat(FileSlotStore.open(dir).boot().block(Duration.ofSeconds(5)))
          .as("a boot from another process meanwhile").isEqualTo(SlotId.A);

      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(child.exitValue()).as("killed, not finished").isNotZero();

    FileSlotStore store = FileSlotStore.open(dir);
    StoreStatus after = store.status().block(Duration.ofSeconds(5));
    assertThat(after.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(SlotId.B).state()).isEqualTo(SlotState.WRITING);
    assertThat(after.slot(SlotId.B).size()).isEqualTo(durable);

    List<UpdateEvent> events = new ArrayList<>();
    InMemoryFirmwareSource source = InMemoryFirmwareSource.of(image).validator(VALIDATOR).chunkSize(64 * 1024);
    OtaUpdater.create().source(source).store(store).syncEvery(1 << 20)
        .install(UpdateRequest.of("https://fw.example/big.bin").withSize(SIZE).withSha256(Sha256.digest(image))
            .withVersion("9.9.9"), events::add)
        .block(Duration.ofSeconds(30));

    UpdateEvent.Resolved resolved = (UpdateEvent.Resolved) events.stream()
        .filter(e -> e instanceof UpdateEvent.Resolved).findFirst().orElseThrow();
    assertThat(resolved.resumedFrom()).as("resumed from the durable offset").isEqualTo(durable).isPositive();
    assertThat(source.opens().get(0).offset()).isEqualTo(durable);
    StoreStatus done = FileSlotStore.open(dir).status().block(Duration.ofSeconds(5));
    assertThat(done.next()).isEqualTo(SlotId.B);
    assertThat(done.slot(SlotId.B).state()).isEqualTo(SlotState.TRIAL);
    assertThat(done.slot(SlotId.B).sha256()).isEqualTo(Sha256.digest(image));
    assertThat(sha256OfFile(dir.resolve("slot-b.img"), SIZE)).isEqualTo(Sha256.digest(image));
  }

  private static Sha256 sha256OfFile(Path file, int size) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    assertThat(bytes.length).isGreaterThanOrEqualTo(size);
    return Sha256.digest(java.util.Arrays.copyOf(bytes, size));
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
