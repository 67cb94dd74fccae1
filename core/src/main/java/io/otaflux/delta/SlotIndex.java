package io.otaflux.delta;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;

import io.otaflux.OtaException;
import io.otaflux.Sha256;

import org.jspecify.annotations.Nullable;

/**
 * The chunk index of the image a slot holds, as an updater keeps it with the slot
 * ({@link io.otaflux.spi.SlotStore#saveChunkIndex}) so the next delta update needs no scan of the
 * slot. A cache, never trusted blindly: it is sealed with a SHA-256 of its bytes (a torn or damaged
 * record is refused), names its format (an older one is refused), and is bound to the image's
 * SHA-256, which must be the digest the store recorded for the slot (a stale record is refused).
 * Whatever it says, every chunk copied from the slot is still read and checked against its digest.
 *
 * <h2>Format (big-endian)</h2>
 * <pre>
 *  8 bytes  magic "OTAFLXS" and the format version, '1'
 *  4 bytes  length L of the index
 *  L bytes  the image's {@link ChunkIndex} (compressed sizes as published, or equal to the sizes when
 *           the index was computed while the image was written)
 * 32 bytes  SHA-256 of all the bytes before
 * </pre>
 */
final class SlotIndex {

  private static final byte[] MAGIC = "OTAFLXS1".getBytes(StandardCharsets.US_ASCII);
  private static final int FAMILY = MAGIC.length - 1;
  private static final int HEAD = MAGIC.length + 4;

  private SlotIndex() {
  }

  /** What a kept record is worth for the running slot: the index, or why not. */
  record Checked(@Nullable ChunkIndex index, String why) {
  }

  static byte[] seal(ChunkIndex index) {
    byte[] body = index.bytes();
    ByteBuffer out = ByteBuffer.allocate(HEAD + body.length + 32);
    out.put(MAGIC).putInt(body.length).put(body);
    MessageDigest sha = Sha256Digests.create();
    sha.update(out.array(), 0, out.position());
    out.put(sha.digest());
    return out.array();
  }

  /**
   * Checks a kept record against the running slot's recorded digest and the chunking a delta needs.
   *
   * @param bytes what the store kept, or null when it keeps none
   * @param running the digest the store recorded for the running slot's image
   * @param chunking the chunking of the new image's index
   * @return the index, or null and a clause saying why it cannot be used
   */
  static Checked check(byte @Nullable [] bytes, Optional<Sha256> running, Chunking chunking) {
    if (bytes == null) {
      return new Checked(null, "no chunk index is kept with it");
    }
    if (bytes.length < HEAD + 32 || !Arrays.equals(bytes, 0, FAMILY, MAGIC, 0, FAMILY)) {
      return new Checked(null, "the chunk index kept with it is damaged (not a chunk index record)");
    }
    if (bytes[FAMILY] != MAGIC[FAMILY]) {
      return new Checked(null, "the chunk index kept with it has an older or unknown format ("
          + new String(bytes, 0, MAGIC.length, StandardCharsets.US_ASCII) + ")");
    }
    int length = ByteBuffer.wrap(bytes, MAGIC.length, 4).getInt();
    MessageDigest sha = Sha256Digests.create();
    sha.update(bytes, 0, bytes.length - 32);
    if (length != bytes.length - HEAD - 32
        || !MessageDigest.isEqual(sha.digest(), Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length))) {
      return new Checked(null, "the chunk index kept with it is damaged (its checksum does not match; a torn write?)");
    }
    ChunkIndex index;
    try {
      index = ChunkIndex.parse(Arrays.copyOfRange(bytes, HEAD, HEAD + length));
    } catch (OtaException e) {
      return new Checked(null, "the chunk index kept with it is damaged (" + e.getMessage() + ")");
    }
    if (running.isEmpty()) {
      return new Checked(null, "the store recorded no SHA-256 for its image, so the chunk index kept with it cannot"
          + " be bound to it");
    }
    if (!index.imageSha256().equals(running.get())) {
      return new Checked(null, "the chunk index kept with it describes another image (sha256 "
          + index.imageSha256().hex().substring(0, 12) + "…, the slot holds " + running.get().hex().substring(0, 12)
          + "…)");
    }
    if (!index.chunking().equals(chunking)) {
      return new Checked(null, "the chunk index kept with it is cut another way (" + index.chunking() + ", the update's"
          + " is " + chunking + ")");
    }
    return new Checked(index, "");
  }
}
