package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.spi.ImageSpec;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootStateFileTest {

  private static final long GIB = 1L << 30;

  @TempDir
  Path dir;

  private Path path;
  private BootStateFile file;

  @BeforeEach
  void create() throws IOException {
    path = dir.resolve("boot-state");
    BootStateFile.create(FileMedium.INSTANCE, path, BootState.initial(5 * GIB));
    file = new BootStateFile(FileMedium.INSTANCE, path);
  }

  @Test
  void aNewFileHoldsGenerationOneInCopyZeroAndABlankCopyOne() throws IOException {
    BootStateFile.Loaded loaded = file.load();
    assertThat(loaded.generation()).isEqualTo(1);
    assertThat(loaded.copy()).isZero();
    assertThat(loaded.state()).isEqualTo(BootState.initial(5 * GIB));
    byte[] bytes = Files.readAllBytes(path);
    assertThat(bytes).hasSize(2 * BootStateFile.COPY_SIZE);
    for (int i = BootStateFile.COPY_SIZE; i < bytes.length; i++) {
      assertThat(bytes[i]).isZero();
    }
  }

  @Test
  void writesAlternateBetweenTheCopiesWithRisingGenerations() throws IOException {
    BootStateFile.Loaded first = file.load();
    BootStateFile.Loaded second = file.store(first.state().withNext(SlotId.B), first);
    BootStateFile.Loaded third = file.store(second.state().withNext(SlotId.A), second);
    assertThat(second.copy()).isEqualTo(1);
    assertThat(second.generation()).isEqualTo(2);
    assertThat(third.copy()).isZero();
    assertThat(third.generation()).isEqualTo(3);
    assertThat(file.load()).isEqualTo(third);
  }

  @Test
  void everyFieldRoundTripsIncludingSizesAbove2GiB() throws IOException {
    ImageSpec spec = new ImageSpec(URI.create("https://fw.example/huge.bin?x=ü"), 4 * GIB + 17,
        Sha256.digest(new byte[] {1}), "4.0.0-rc.1");
    BootState state = BootState.initial(5 * GIB)
        .with(SlotId.A, new SlotRecord(SlotState.TRIAL, 2, 3 * GIB + 5, Sha256.digest(new byte[] {2}), "3.0.0",
            URI.create("https://cdn.example/a.bin"), null))
        .with(SlotId.B, writing(spec, 2 * GIB + 1, "W/\"etag\""))
        .withNext(SlotId.A);
    BootStateFile.Loaded loaded = file.store(state, file.load());
    assertThat(file.load()).isEqualTo(loaded);
    assertThat(file.load().state()).isEqualTo(state);
    assertThat(file.load().state().status().slot(SlotId.A).size()).isEqualTo(3 * GIB + 5);
  }

  @Test
  void aTornNewestCopyFallsBackToTheCopyBefore() throws IOException {
    BootStateFile.Loaded first = file.load();
    BootStateFile.Loaded second = file.store(first.state().withNext(SlotId.B), first);
    flipByte(path, (long) second.copy() * BootStateFile.COPY_SIZE + BootStateFile.HEADER + 1);
    assertThat(file.load()).isEqualTo(first);
  }

  @Test
  void aNewestCopyWrittenOnlyInPartOverAnOlderOneIsNotTaken() throws IOException {
    BootStateFile.Loaded g1 = file.load();
    BootStateFile.Loaded g2 = file.store(g1.state().withNext(SlotId.B), g1);
    BootStateFile.Loaded g3 = file.store(g2.state().withActive(SlotId.B), g2);
    // generation 4 goes over generation 2 in copy 1; only its first 12 bytes reach the disk
    byte[] g4 = BootStateFile.encode(g3.state().withNext(SlotId.A), 4);
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.seek(BootStateFile.COPY_SIZE);
      f.write(g4, 0, 12);
    }
    assertThat(file.load()).isEqualTo(g3);
  }

  @Test
  void aFileCutShortUsesTheCopyThatIsWhole() throws IOException {
    BootStateFile.Loaded first = file.load();
    file.store(first.state().withNext(SlotId.B), first);
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.setLength(BootStateFile.COPY_SIZE + 10);
    }
    assertThat(file.load()).isEqualTo(first);
  }

  @Test
  void anEmptyFileIsRefusedAsDamaged() throws IOException {
    Files.write(path, new byte[0]);
    assertThatThrownBy(file::load).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.reason()).isEqualTo(Reason.STORAGE);
      assertThat(e.getMessage()).contains("damaged in both copies", "truncated", "will not guess");
    });
  }

  @Test
  void bothCopiesDamagedIsRefusedWithoutGuessing() throws IOException {
    BootStateFile.Loaded first = file.load();
    file.store(first.state().withNext(SlotId.B), first);
    flipByte(path, 30);
    flipByte(path, BootStateFile.COPY_SIZE + 30);
    assertThatThrownBy(file::load).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.reason()).isEqualTo(Reason.STORAGE);
      assertThat(e.getMessage()).contains("damaged in both copies", "CRC mismatch", "ota init");
    });
  }

  @Test
  void theNewestCopyInAnUnknownFormatVersionIsRefused() throws IOException {
    writeCopy(path, 1, copyWithVersion(BootState.initial(GIB), 2, 2));
    assertThatThrownBy(file::load).isInstanceOfSatisfying(OtaException.class, e -> {
      assertThat(e.reason()).isEqualTo(Reason.STORAGE);
      assertThat(e.getMessage()).contains("format version 2", "reads version 1");
    });
  }

  @Test
  void anOlderCopyInAnUnknownFormatVersionIsIgnored() throws IOException {
    writeCopy(path, 1, copyWithVersion(BootState.initial(GIB), 0, 0));
    assertThat(file.load().generation()).isEqualTo(1);
  }

  @Test
  void aCopyWithAGoodCrcButABootableSlotWithoutADigestIsNotTrusted() throws IOException {
    BootStateFile.Loaded first = file.load();
    BootState impossible = first.state().with(SlotId.B, new SlotRecord(SlotState.TRIAL, 0, 0, null, null, null, null))
        .withNext(SlotId.B);
    writeCopy(path, 1, BootStateFile.encode(impossible, 2));
    assertThat(file.load()).isEqualTo(first);
  }

  @Test
  void aStateTooLargeForACopyIsRefusedBeforeAnythingIsWritten() throws IOException {
    byte[] before = Files.readAllBytes(path);
    ImageSpec spec = new ImageSpec(URI.create("https://fw.example/" + "x".repeat(70_000)), 1, null, null);
    BootStateFile.Loaded first = file.load();
    assertThatThrownBy(() -> file.store(first.state().with(SlotId.B, writing(spec, 0, null)), first))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage()).contains("too long"));
    assertThat(Files.readAllBytes(path)).isEqualTo(before);
  }

  static SlotRecord writing(ImageSpec spec, long durable, @Nullable String validator) {
    return new SlotRecord(SlotState.WRITING, 0, durable, null, null, null, new SlotRecord.Journal(spec, validator));
  }

  /** A copy as another format version would write it: the same header and CRC, another version. */
  static byte[] copyWithVersion(BootState state, int version, long generation) {
    byte[] bytes = BootStateFile.encode(state, generation);
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.putInt(4, version);
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    b.putInt(bytes.length - 4, (int) crc.getValue());
    return bytes;
  }

  static void writeCopy(Path path, int copy, byte[] bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.seek((long) copy * BootStateFile.COPY_SIZE);
      f.write(bytes);
    }
  }

  private static void flipByte(Path path, long at) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xff);
    }
  }
}
