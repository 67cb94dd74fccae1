package io.otaflux.delta;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

import io.otaflux.Sha256;

import org.junit.jupiter.api.Test;

/** The chunk index kept with a slot: what it keeps, and that it is refused, with a reason, whenever it does not check. */
class SlotIndexTest {

  private static final byte[] IMAGE = image();
  private static final Sha256 DIGEST = Sha256.digest(IMAGE);

  private static byte[] image() {
    byte[] bytes = new byte[700_000];
    Random random = new Random(5);
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (random.nextInt(20) + 'a');
    }
    return bytes;
  }

  /** The index an update computes while the image streams past in odd pieces. */
  private static ChunkIndex built() {
    IndexBuilder builder = new IndexBuilder(Chunking.standard());
    Random random = new Random(6);
    for (int at = 0; at < IMAGE.length; ) {
      int n = Math.min(IMAGE.length - at, 1 + random.nextInt(100_000));
      ByteBuffer piece = ByteBuffer.wrap(IMAGE, at, n);
      builder.accept(piece);
      assertThat(piece.remaining()).isEqualTo(n);
      at += n;
    }
    ChunkIndex index = builder.finish(IMAGE.length, DIGEST);
    assertThat(index).isNotNull();
    return index;
  }

  @Test
  void anIndexBuiltWhileTheImageStreamsCutsItAsThePublisherDoes() throws IOException {
    ChunkIndex index = built();

    ChunkStream chunks = new ChunkStream(new ByteArrayInputStream(IMAGE), Chunking.standard());
    int j = 0;
    for (int len = chunks.next(); len > 0; len = chunks.next(), j++) {
      assertThat(index.size(j)).isEqualTo(len);
      assertThat(index.digestEquals(j, Sha256Digests.truncated(chunks.bytes(), chunks.offset(), len))).isTrue();
    }
    assertThat(index.chunks()).isEqualTo(j).isGreaterThan(40);
    assertThat(index.imageSize()).isEqualTo(IMAGE.length);
  }

  @Test
  void anIndexBuiltFromFewerBytesThanTheImageHasIsNotKept() {
    IndexBuilder builder = new IndexBuilder(Chunking.standard());
    builder.accept(ByteBuffer.wrap(IMAGE, 0, 1000));

    assertThat(builder.finish(IMAGE.length, DIGEST)).isNull();
  }

  @Test
  void aSealedIndexChecksForTheImageItDescribesAndFindsEveryChunkWithoutReadingTheSlot() {
    ChunkIndex index = built();

    SlotIndex.Checked checked = SlotIndex.check(SlotIndex.seal(index), Optional.of(DIGEST), Chunking.standard());

    assertThat(checked.index()).isNotNull();
    long[] where = ImageTransfer.match(index, checked.index());
    for (int j = 0; j < index.chunks(); j++) {
      assertThat(where[j]).isEqualTo(index.offset(j));
    }
  }

  @Test
  void noKeptIndexIsReportedAsSuch() {
    assertThat(SlotIndex.check(null, Optional.of(DIGEST), Chunking.standard()).why())
        .isEqualTo("no chunk index is kept with it");
  }

  @Test
  void anIndexOfAnotherImageIsRefusedAsStale() {
    Sha256 other = Sha256.digest(new byte[] {1});

    SlotIndex.Checked checked = SlotIndex.check(SlotIndex.seal(built()), Optional.of(other), Chunking.standard());

    assertThat(checked.index()).isNull();
    assertThat(checked.why()).contains("describes another image").contains(other.hex().substring(0, 12));
  }

  @Test
  void aSlotWithoutARecordedDigestCannotUseAKeptIndex() {
    SlotIndex.Checked checked = SlotIndex.check(SlotIndex.seal(built()), Optional.empty(), Chunking.standard());

    assertThat(checked.index()).isNull();
    assertThat(checked.why()).contains("recorded no SHA-256");
  }

  @Test
  void anIndexCutAnotherWayThanTheUpdatesIsNotUsed() {
    SlotIndex.Checked checked = SlotIndex.check(SlotIndex.seal(built()), Optional.of(DIGEST), Chunking.fixed(4096));

    assertThat(checked.index()).isNull();
    assertThat(checked.why()).contains("cut another way");
  }

  @Test
  void anyFlippedBitOfAKeptIndexIsRefusedAsDamaged() {
    byte[] sealed = SlotIndex.seal(built());
    Random random = new Random(7);
    for (int k = 0; k < 200; k++) {
      byte[] damaged = sealed.clone();
      int at = 8 + random.nextInt(sealed.length - 8); // past the format version
      damaged[at] ^= (byte) (1 << random.nextInt(8));

      SlotIndex.Checked checked = SlotIndex.check(damaged, Optional.of(DIGEST), Chunking.standard());

      assertThat(checked.index()).as("bit flipped at %d", at).isNull();
      assertThat(checked.why()).contains("damaged");
    }
  }

  @Test
  void aTornKeptIndexIsRefusedAsDamaged() {
    byte[] sealed = SlotIndex.seal(built());
    for (int length : new int[] {0, 5, 12, sealed.length / 2, sealed.length - 1}) {
      SlotIndex.Checked checked = SlotIndex.check(Arrays.copyOf(sealed, length), Optional.of(DIGEST),
          Chunking.standard());

      assertThat(checked.index()).isNull();
      assertThat(checked.why()).contains("damaged");
    }
    byte[] longer = Arrays.copyOf(sealed, sealed.length + 4096); // zeros past the end, as a torn rename may leave
    assertThat(SlotIndex.check(longer, Optional.of(DIGEST), Chunking.standard()).why()).contains("damaged");
  }

  @Test
  void aKeptIndexInAnOlderFormatIsRefusedAsSuch() {
    byte[] sealed = SlotIndex.seal(built());
    sealed[7] = '0';

    SlotIndex.Checked checked = SlotIndex.check(sealed, Optional.of(DIGEST), Chunking.standard());

    assertThat(checked.index()).isNull();
    assertThat(checked.why()).contains("older or unknown format").contains("OTAFLXS0");
  }
}
