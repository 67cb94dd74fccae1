package io.otaflux;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/** A SHA-256 digest: 32 bytes, shown as lowercase hex. */
public final class Sha256 {

  private static final HexFormat HEX = HexFormat.of();
  private final byte[] bytes;

  private Sha256(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * The digest with these 32 bytes.
   *
   * @param bytes the digest
   * @return the digest
   * @throws OtaException reason {@code USAGE} when there are not 32 bytes
   */
  public static Sha256 of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length != 32) {
      throw OtaException.of(OtaException.Reason.USAGE,
          "A SHA-256 digest has 32 bytes, not " + bytes.length + ".");
    }
    return new Sha256(bytes.clone());
  }

  /**
   * Parses 64 hex digits (either case; surrounding white space ignored).
   *
   * @param hex the digest in hex
   * @return the digest
   * @throws OtaException reason {@code USAGE} when the text is not 64 hex digits
   */
  public static Sha256 ofHex(String hex) {
    Objects.requireNonNull(hex, "hex");
    String trimmed = hex.strip().toLowerCase(Locale.ROOT);
    if (trimmed.length() != 64 || !trimmed.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw OtaException.of(OtaException.Reason.USAGE,
          "A SHA-256 digest is 64 hex digits; got \"" + abbreviate(trimmed) + "\". Copy it from `sha256sum IMAGE`.");
    }
    return new Sha256(HEX.parseHex(trimmed));
  }

  /**
   * The digest of these bytes.
   *
   * @param data the bytes
   * @return their digest
   */
  public static Sha256 digest(byte[] data) {
    return new Sha256(newDigest().digest(data));
  }

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }

  /**
   * The 32 bytes.
   *
   * @return a copy of the digest
   */
  public byte[] bytes() {
    return bytes.clone();
  }

  /**
   * The digest as 64 lowercase hex digits.
   *
   * @return the hex form
   */
  public String hex() {
    return HEX.formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Sha256 && MessageDigest.isEqual(bytes, ((Sha256) o).bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return hex();
  }
}
