package io.otaflux.manifest;

import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.internal.Redaction;

import org.jspecify.annotations.Nullable;

/**
 * The public keys a device accepts manifests from. Several keys allow rotation: trust the old and
 * the new key while manifests signed by either are in circulation, then drop the old one.
 * Immutable: {@link #with} and {@link #without} return new sets.
 *
 * <p>An empty set fails closed: it accepts no manifest, and says that a key is needed
 * ({@link OtaException.Detail#SIGNATURE_CHECK_REQUIRED}). Not checking signatures at all takes an
 * explicit {@link #skipSignatureCheck()}, which the caller should announce on every use.
 */
public final class TrustedKeys {

  private static final TrustedKeys SKIP = new TrustedKeys(Map.of(), false);

  private final Map<String, VerificationKey> byId;
  private final boolean checking;

  private TrustedKeys(Map<String, VerificationKey> byId, boolean checking) {
    this.byId = byId;
    this.checking = checking;
  }

  /**
   * Trusts these keys.
   *
   * @param keys the keys (none: trust nothing)
   * @return the set
   */
  public static TrustedKeys of(VerificationKey... keys) {
    return of(Arrays.asList(keys));
  }

  /**
   * Trusts these keys.
   *
   * @param keys the keys (none: trust nothing)
   * @return the set
   */
  public static TrustedKeys of(Collection<VerificationKey> keys) {
    Objects.requireNonNull(keys, "keys");
    Map<String, VerificationKey> map = new LinkedHashMap<>();
    for (VerificationKey k : keys) {
      map.put(Objects.requireNonNull(k, "key").keyId(), k);
    }
    return new TrustedKeys(map, true);
  }

  /**
   * Trusts the public keys in these PEM files (the {@code --trusted-key FILE} options).
   *
   * @param files PEM files, one public key each
   * @return the set
   * @throws OtaException reason {@code USAGE} when a file cannot be read or holds no usable key
   */
  public static TrustedKeys read(Collection<Path> files) {
    Objects.requireNonNull(files, "files");
    return of(files.stream().map(VerificationKey::read).toList());
  }

  /** The sentence for a manifest refused because no key is trusted. */
  static final String KEY_REQUIRED = "no key is trusted to check its signature, so it is refused and nothing was "
      + "downloaded. Trust the publisher's public key (TrustedKeys.of, ota: --trusted-key FILE), or skip the check "
      + "knowingly (TrustedKeys.skipSignatureCheck(), ota: --no-signature-check).";

  /**
   * Accepts any well-formed manifest without checking its signature: the manifest is then only
   * as trustworthy as the connection it came over (a pinned HTTPS server). Never the default: for
   * {@code ota ... --no-signature-check}, which warns on every run; a {@link ManifestUpdater} with
   * this set logs a warning for every manifest it accepts.
   *
   * @return the set that checks nothing
   */
  public static TrustedKeys skipSignatureCheck() {
    return SKIP;
  }

  /**
   * These keys and {@code key}.
   *
   * @param key another key to trust
   * @return a new set
   */
  public TrustedKeys with(VerificationKey key) {
    Objects.requireNonNull(key, "key");
    Map<String, VerificationKey> map = new LinkedHashMap<>(byId);
    map.put(key.keyId(), key);
    return new TrustedKeys(map, true);
  }

  /**
   * These keys without {@code key}: its manifests are no longer accepted.
   *
   * @param key the key to stop trusting
   * @return a new set
   */
  public TrustedKeys without(VerificationKey key) {
    Objects.requireNonNull(key, "key");
    Map<String, VerificationKey> map = new LinkedHashMap<>(byId);
    map.remove(key.keyId());
    return new TrustedKeys(map, checking);
  }

  /**
   * The trusted keys.
   *
   * @return the keys, in the order given
   */
  public List<VerificationKey> keys() {
    return List.copyOf(byId.values());
  }

  /**
   * Whether signatures are checked (false only for {@link #skipSignatureCheck()}).
   *
   * @return true when manifests must be signed by one of {@link #keys()}
   */
  public boolean isChecking() {
    return checking;
  }

  /**
   * Parses a manifest whose own URL is unknown (read from a file, say) and checks its signature.
   * A relative image URL then stays unresolved ({@link Manifest#imageUri()} is empty).
   *
   * @param json the manifest's bytes
   * @return the verified manifest
   * @throws OtaException reason {@code INTEGRITY} when it does not parse, lacks a field, or is not
   *     signed by one of these keys
   */
  public Manifest verify(byte[] json) {
    Objects.requireNonNull(json, "json");
    return check(json, null);
  }

  /**
   * Parses a manifest fetched from {@code location} and checks its signature; a relative image
   * URL is resolved against {@code location}.
   *
   * <p><b>Errors:</b> {@link Reason#INTEGRITY} for a manifest that does not parse or lacks a
   * field, that names a key not in this set, whose algorithm is not its key's, or whose signature
   * does not verify (including any malformed signature, such as an all-zero ECDSA one).
   *
   * @param json the manifest's bytes
   * @param location the manifest's URL (after redirects)
   * @return the verified manifest
   */
  public Manifest verify(byte[] json, URI location) {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(location, "location");
    return check(json, location);
  }

  private Manifest check(byte[] json, @Nullable URI location) {
    requireKey(location);
    Manifest manifest = Manifest.parse(json, location);
    return checking ? authenticate(manifest) : manifest;
  }

  /**
   * Fails when this set checks signatures but holds no key: nothing could ever verify.
   *
   * @throws OtaException {@link OtaException.Detail#SIGNATURE_CHECK_REQUIRED}
   */
  void requireKey(@Nullable URI location) {
    if (checking && byId.isEmpty()) {
      throw OtaException.of(OtaException.Detail.SIGNATURE_CHECK_REQUIRED, "The manifest"
          + (location == null ? "" : " from " + Redaction.uri(location)) + " cannot be used: " + KEY_REQUIRED);
    }
  }

  /**
   * Checks a parsed manifest's signature with these keys (again, for a manifest checked elsewhere).
   *
   * @return the manifest verified by the matching key
   * @throws OtaException reason {@code INTEGRITY} when no key of this set signed it
   */
  Manifest authenticate(Manifest manifest) {
    requireKey(manifest.location().orElse(null));
    String from = manifest.location().map(l -> " from " + Redaction.uri(l)).orElse("");
    VerificationKey key = byId.get(manifest.keyId());
    if (key == null) {
      throw OtaException.of(OtaException.Detail.UNTRUSTED_SIGNER, "The manifest" + from + " is signed by key "
          + manifest.keyId() + ", which is not trusted (trusted: " + String.join(", ", byId.keySet())
          + "); nothing was downloaded. Add the publisher's public key with --trusted-key if it is really theirs.");
    }
    if (key.algorithm() != manifest.algorithm()) {
      throw OtaException.of(OtaException.Detail.BAD_SIGNATURE, "The manifest" + from + " says it is signed with "
          + manifest.algorithm().label() + " but trusted key " + key.keyId() + " is an " + key.algorithm().label()
          + " key; nothing was downloaded.");
    }
    if (!key.verifies(manifest.signedBytes(), manifest.signature())) {
      throw OtaException.of(OtaException.Detail.BAD_SIGNATURE, "The manifest" + from + " has a signature that does not verify with "
          + "trusted key " + key.keyId() + ": it was changed after it was signed, or signed by another key. "
          + "Nothing was downloaded.");
    }
    return manifest.verifiedBy(key);
  }

  @Override
  public String toString() {
    return checking ? "TrustedKeys" + byId.keySet() : "TrustedKeys[signatures not checked]";
  }
}
