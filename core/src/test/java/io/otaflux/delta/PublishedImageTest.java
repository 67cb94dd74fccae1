package io.otaflux.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.SigningKey;
import io.otaflux.manifest.TrustedKeys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PublishedImageTest {

  private static final SigningKey KEY = SigningKey.generate();

  @TempDir
  Path dir;

  private Path image(int size) throws IOException {
    byte[] bytes = new byte[size];
    Random random = new Random(size);
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (random.nextInt(16) + 'a');
    }
    Path file = dir.resolve("gw.img");
    Files.write(file, bytes);
    return file;
  }

  private static byte[] decode(Path file, Compression compression) throws IOException {
    try (InputStream in = Decoding.open(new ByteArrayInputStream(Files.readAllBytes(file)), compression)) {
      return in.readAllBytes();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"ZSTD", "XZ", "GZIP"})
  void theChunksFileIsAValidCompressedFileOfTheWholeImageNextToTheWholeStream(Compression compression)
      throws IOException {
    Path image = image(300_000);
    PublishedImage files = PublishedImage.of(image).compression(compression).delta(true).level(3).write();

    assertThat(files.transferFile()).hasFileName("gw.img" + compression.suffix());
    assertThat(files.chunksFile()).hasValue(dir.resolve("gw.img.chunks" + compression.suffix()));
    assertThat(files.indexFile()).hasValue(dir.resolve("gw.img.idx"));
    assertThat(decode(files.transferFile(), compression)).isEqualTo(Files.readAllBytes(image));
    assertThat(decode(files.chunksFile().get(), compression)).isEqualTo(Files.readAllBytes(image));
    ChunkIndex index = ChunkIndex.parse(Files.readAllBytes(files.indexFile().get()));
    assertThat(index.chunks()).isEqualTo(files.chunks()).isGreaterThan(10);
    assertThat(index.imageSha256()).isEqualTo(Sha256.digest(Files.readAllBytes(image)));
    assertThat(index.transferSize()).isEqualTo(Files.size(files.chunksFile().get()));
  }

  @ParameterizedTest
  @EnumSource(value = Compression.class, names = {"ZSTD", "XZ", "GZIP"})
  void withoutDeltaTheTransferFileIsOneCompressedStream(Compression compression) throws IOException {
    Path image = image(200_000);
    PublishedImage files = PublishedImage.of(image).compression(compression).write();
    assertThat(files.indexFile()).isEmpty();
    assertThat(decode(files.transferFile(), compression)).isEqualTo(Files.readAllBytes(image));
    assertThat(files.transferSize()).isLessThan(200_000 * 6 / 10);
  }

  @Test
  void theSignatureCoversTheTransferFileAndTheIndex() throws IOException {
    PublishedImage files = PublishedImage.of(image(100_000)).delta(true).level(3).write();
    Manifest manifest = Manifest.builder().version("2.0.0").url("gw.img").files(files).sign(KEY);
    TrustedKeys keys = TrustedKeys.of(KEY.publicKey());
    URI location = URI.create("https://fw.example/gw/manifest.json");

    Manifest verified = keys.verify(manifest.json().getBytes(StandardCharsets.UTF_8), location);
    assertThat(verified.transfer().orElseThrow().uri()).isEqualTo(URI.create("https://fw.example/gw/gw.img.zst"));
    assertThat(verified.index().orElseThrow().sha256()).isEqualTo(files.indexSha256());

    String swapped = manifest.json().replace(files.indexSha256().hex(), Sha256.digest(new byte[1]).hex());
    assertThatThrownBy(() -> keys.verify(swapped.getBytes(StandardCharsets.UTF_8), location))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INTEGRITY));
    String partial = manifest.json().replaceAll("  \"indexSize\": \\d+,\n", "");
    assertThatThrownBy(() -> keys.verify(partial.getBytes(StandardCharsets.UTF_8), location))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.getMessage()).contains("go together"));
  }

  @Test
  void aTruncatedIndexIsACorruptImage() throws IOException {
    PublishedImage files = PublishedImage.of(image(100_000)).delta(true).level(3).write();
    byte[] index = Files.readAllBytes(files.indexFile().orElseThrow());
    assertThatThrownBy(() -> ChunkIndex.parse(Arrays.copyOf(index, index.length - 1)))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.CORRUPT_IMAGE));
  }

  @Test
  void gzipMembersAreDecodedStrictly() throws IOException {
    PublishedImage files = PublishedImage.of(image(100_000)).compression(Compression.GZIP).delta(true).level(3).write();
    byte[] gz = Files.readAllBytes(files.chunksFile().orElseThrow());
    byte[] truncated = Arrays.copyOf(gz, gz.length - 3);
    assertThatThrownBy(() -> Decoding.open(new ByteArrayInputStream(truncated), Compression.GZIP).readAllBytes())
        .isInstanceOf(IOException.class);
    byte[] garbage = Arrays.copyOf(gz, gz.length + 5);
    assertThatThrownBy(() -> Decoding.open(new ByteArrayInputStream(garbage), Compression.GZIP).readAllBytes())
        .isInstanceOf(IOException.class);
  }

  @Test
  void contentDefinedChunksFollowTheContentWhenBytesAreInserted() {
    byte[] data = new byte[400_000];
    new Random(3).nextBytes(data);
    byte[] shifted = new byte[data.length + 100];
    System.arraycopy(data, 0, shifted, 100, data.length);
    Chunking c = Chunking.standard();
    java.util.Set<Long> cuts = cuts(c, data, 0);
    java.util.Set<Long> shiftedCuts = cuts(c, shifted, -100);
    java.util.Set<Long> common = new java.util.HashSet<>(cuts);
    common.retainAll(shiftedCuts);
    assertThat(common.size()).isGreaterThan(cuts.size() * 9 / 10);
  }

  private static java.util.Set<Long> cuts(Chunking c, byte[] data, long shift) {
    java.util.Set<Long> cuts = new java.util.HashSet<>();
    int at = 0;
    while (at < data.length) {
      int n = c.cut(data, at, data.length - at, true);
      at += n;
      cuts.add(at + shift);
    }
    return cuts;
  }
}
