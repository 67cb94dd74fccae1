package io.otaflux.manifest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.delta.Compression;
import io.otaflux.internal.Redaction;
import io.otaflux.internal.Uris;

import org.jspecify.annotations.Nullable;

/**
 * A signed statement by a publisher: "the image at this URL, of this size and SHA-256, is version
 * V". Immutable. A manifest comes from {@link #builder()} (publisher side, signed with a
 * {@link SigningKey}) or from {@link TrustedKeys#verify} (device side, parsed strictly and its
 * signature checked).
 *
 * <h2>Format</h2>
 * One JSON object (RFC 8259, UTF-8, no byte order mark) with exactly these members, in any order,
 * with any JSON white space between tokens:
 * <table>
 *   <caption>manifest members</caption>
 *   <tr><th>name</th><th>JSON type</th><th>value</th></tr>
 *   <tr><td>{@code format}</td><td>string</td><td>{@code "otaflux-manifest/1"}: this format; a
 *       signature made for other JSON can never pass as a manifest</td></tr>
 *   <tr><td>{@code version}</td><td>string</td><td>a Semantic Versioning 2.0.0 version
 *       ({@link SemanticVersion})</td></tr>
 *   <tr><td>{@code size}</td><td>number</td><td>the image size in bytes: an integer from 0 to
 *       2<sup>53</sup>-1 written in plain decimal (no sign, fraction, exponent or leading zero)</td></tr>
 *   <tr><td>{@code sha256}</td><td>string</td><td>the image's SHA-256, 64 lowercase hex digits</td></tr>
 *   <tr><td>{@code url}</td><td>string</td><td>the image URL: absolute, or relative to the URL the
 *       manifest was fetched from (after redirects), resolved as RFC 3986 section 5 says</td></tr>
 *   <tr><td>{@code created}</td><td>string</td><td>when it was signed, an ISO-8601 instant in UTC
 *       ({@code 2026-11-25T12:00:00Z})</td></tr>
 *   <tr><td>{@code algorithm}</td><td>string</td><td>{@code ed25519} or {@code ecdsa-p256-sha256}</td></tr>
 *   <tr><td>{@code keyId}</td><td>string</td><td>the signing key's id: SHA-256 of its DER
 *       SubjectPublicKeyInfo, 64 lowercase hex digits ({@link VerificationKey#keyId()})</td></tr>
 *   <tr><td>{@code signature}</td><td>string</td><td>the signature of the canonical bytes, standard
 *       base64 with padding (RFC 4648 section 4): 64 bytes for Ed25519, DER {@code SEQUENCE {r, s}}
 *       for ECDSA</td></tr>
 * </table>
 * A missing, unknown, duplicated or wrongly typed member makes the manifest invalid.
 *
 * <p>Optional members, written by {@code ota manifest create --compress} and {@code --delta}
 * ({@link io.otaflux.delta.PublishedImage}); each group is present as a whole or not at all, and
 * the index only with a transfer file:
 * <table>
 *   <caption>optional manifest members</caption>
 *   <tr><th>name</th><th>JSON type</th><th>value</th></tr>
 *   <tr><td>{@code compression}</td><td>string</td><td>{@code zstd}, {@code xz} or {@code gzip}: how the
 *       transfer file is compressed</td></tr>
 *   <tr><td>{@code transferUrl}</td><td>string</td><td>the compressed image, resolved as {@code url}</td></tr>
 *   <tr><td>{@code transferSize}</td><td>number</td><td>its size in bytes, as {@code size}</td></tr>
 *   <tr><td>{@code transferSha256}</td><td>string</td><td>its SHA-256, as {@code sha256}</td></tr>
 *   <tr><td>{@code indexUrl}</td><td>string</td><td>the chunk index ({@link io.otaflux.delta.ChunkIndex}), resolved
 *       as {@code url}</td></tr>
 *   <tr><td>{@code indexSize}</td><td>number</td><td>its size in bytes</td></tr>
 *   <tr><td>{@code indexSha256}</td><td>string</td><td>its SHA-256</td></tr>
 *   <tr><td>{@code chunksUrl}</td><td>string</td><td>the chunked compressed image the index describes (its size and
 *       chunks are bound by the index), resolved as {@code url}</td></tr>
 * </table>
 * Present optional members are signed like the others (in the canonical bytes, sorted by name);
 * a manifest without them has the same canonical bytes as before they existed.
 *
 * <h2>Canonical bytes (what is signed)</h2>
 * The UTF-8 bytes of a JSON object holding every member except {@code signature}, written as
 * RFC 8785 (JSON Canonicalization Scheme) does for these types: members sorted by name
 * ({@code algorithm, created, format, keyId, sha256, size, url, version}), no white space at all,
 * {@code size} as plain decimal digits, strings between double quotes with only {@code "} and
 * {@code \} escaped as {@code \"} and {@code \\}, control characters below U+0020 as
 * {@code \b \t \n \f \r} or {@code \}{@code u00xx} (lowercase hex), and every other character as
 * itself in UTF-8 (no {@code \}{@code u} escapes, {@code /} not escaped). String values are the
 * decoded strings as they appear in the manifest (a verifier does not normalise a version, time or
 * URL before checking). For example:
 * <pre>{@code {"algorithm":"ed25519","created":"2026-11-25T12:00:00Z","format":"otaflux-manifest/1","keyId":"<64 hex>","sha256":"<64 hex>","size":1048576,"url":"gw-2.0.0.bin","version":"2.0.0"}}</pre>
 * Ed25519 signs these bytes (pure Ed25519, no pre-hash); ECDSA signs their SHA-256.
 * {@link #signedBytes()} returns them, so a signature can be checked with other tools too.
 *
 * <p><b>Errors:</b> a manifest that does not parse, lacks or mistypes a member, or fails its
 * signature is {@link Reason#INTEGRITY}: it is untrustworthy input from the network, whatever
 * broke it, so a tampered manifest fails the same way whether or not the tampering left it valid
 * JSON. Bad arguments on the publisher side (a version that is not SemVer, say) are
 * {@link Reason#USAGE}.
 */
public final class Manifest {

  /** The value of the {@code format} member. */
  public static final String FORMAT = "otaflux-manifest/1";

  private static final long MAX_SIZE = (1L << 53) - 1;
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern PLAIN_INTEGER = Pattern.compile("0|[1-9][0-9]{0,15}");
  private static final List<String> MEMBERS =
      List.of("format", "version", "size", "sha256", "url", "created", "algorithm", "keyId", "signature");
  private static final List<String> TRANSFER_MEMBERS =
      List.of("compression", "transferUrl", "transferSize", "transferSha256");
  private static final List<String> INDEX_MEMBERS = List.of("indexUrl", "indexSize", "indexSha256", "chunksUrl");

  private final SemanticVersion version;
  private final long size;
  private final Sha256 sha256;
  private final String url;
  private final @Nullable URI imageUri;
  private final @Nullable URI location;
  private final String created;
  private final Instant createdAt;
  private final SignatureAlgorithm algorithm;
  private final String keyId;
  private final byte[] signature;
  private final @Nullable VerificationKey verifiedBy;
  private final @Nullable Transfer transfer;
  private final @Nullable Index index;

  private Manifest(SemanticVersion version, long size, Sha256 sha256, String url, @Nullable URI imageUri,
      @Nullable URI location, String created, Instant createdAt, SignatureAlgorithm algorithm, String keyId,
      byte[] signature, @Nullable VerificationKey verifiedBy, @Nullable Transfer transfer, @Nullable Index index) {
    this.transfer = transfer;
    this.index = index;
    this.version = version;
    this.size = size;
    this.sha256 = sha256;
    this.url = url;
    this.imageUri = imageUri;
    this.location = location;
    this.created = created;
    this.createdAt = createdAt;
    this.algorithm = algorithm;
    this.keyId = keyId;
    this.signature = signature;
    this.verifiedBy = verifiedBy;
  }

  /**
   * A builder for a new manifest, signed with {@link Builder#sign(SigningKey)}.
   *
   * <pre>{@code
   * Manifest manifest = Manifest.builder()
   *     .version("2.0.0")
   *     .url("gw-2.0.0.bin")             // relative to where the manifest will be served
   *     .image(Path.of("gw-2.0.0.bin"))  // size and SHA-256, streamed
   *     .sign(SigningKey.read(Path.of("ota-key.pem")));
   * Files.writeString(Path.of("gw-2.0.0.json"), manifest.json());
   * }</pre>
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Parses strictly; the signature is not checked here (see {@link TrustedKeys#verify}). */
  static Manifest parse(byte[] json, @Nullable URI manifestUri) {
    // never keep a password: credentials for the image are the caller's business (ManifestUpdater)
    URI location = manifestUri == null ? null : Redaction.withoutUserInfo(manifestUri);
    Map<String, Json.Value> members;
    try {
      members = Json.parseObject(json);
    } catch (Json.SyntaxError e) {
      throw invalid(location, "it is not valid JSON: " + e.getMessage());
    }
    for (String name : members.keySet()) {
      if (!MEMBERS.contains(name) && !TRANSFER_MEMBERS.contains(name) && !INDEX_MEMBERS.contains(name)) {
        throw invalid(location, "it has an unknown field \"" + abbreviate(name) + "\"");
      }
    }
    for (String name : MEMBERS) {
      if (!members.containsKey(name)) {
        throw invalid(location, "the field \"" + name + "\" is missing");
      }
    }
    String format = string(members, "format", location);
    if (!format.equals(FORMAT)) {
      throw invalid(location, "its format is \"" + abbreviate(format) + "\", not \"" + FORMAT + "\"");
    }
    SemanticVersion version;
    try {
      version = SemanticVersion.parse(string(members, "version", location));
    } catch (OtaException e) {
      throw invalid(location, "the field \"version\": " + e.getMessage());
    }
    Json.Value sizeValue = members.get("size");
    if (sizeValue.kind() != Json.Kind.NUMBER || !PLAIN_INTEGER.matcher(sizeValue.text()).matches()
        || Long.parseLong(sizeValue.text()) > MAX_SIZE) {
      throw invalid(location, "the field \"size\" must be a whole number of bytes from 0 to " + MAX_SIZE
          + " in plain digits, not " + abbreviate(sizeValue.text()));
    }
    String sha = string(members, "sha256", location);
    if (!HEX64.matcher(sha).matches()) {
      throw invalid(location, "the field \"sha256\" must be 64 lowercase hex digits");
    }
    String url = string(members, "url", location);
    URI imageUri = resolve(url, location, Reason.INTEGRITY);
    String created = string(members, "created", location);
    Instant createdAt;
    try {
      createdAt = DateTimeFormatter.ISO_INSTANT.parse(created, Instant::from);
    } catch (DateTimeParseException e) {
      throw invalid(location, "the field \"created\" is not an ISO-8601 instant like 2026-11-25T12:00:00Z");
    }
    SignatureAlgorithm algorithm;
    try {
      algorithm = SignatureAlgorithm.ofLabel(string(members, "algorithm", location));
    } catch (OtaException e) {
      throw invalid(location, "the field \"algorithm\": " + e.getMessage());
    }
    if (!members.get("algorithm").text().equals(algorithm.label())) {
      throw invalid(location, "the field \"algorithm\" must be written \"" + algorithm.label() + "\"");
    }
    String keyId = string(members, "keyId", location);
    if (!HEX64.matcher(keyId).matches()) {
      throw invalid(location, "the field \"keyId\" must be 64 lowercase hex digits");
    }
    byte[] signature;
    try {
      signature = Base64.getDecoder().decode(string(members, "signature", location));
    } catch (IllegalArgumentException e) {
      throw invalid(location, "the field \"signature\" is not base64");
    }
    Transfer transfer = null;
    if (group(members, TRANSFER_MEMBERS, location)) {
      Compression compression;
      try {
        compression = Compression.ofLabel(string(members, "compression", location));
      } catch (OtaException e) {
        throw invalid(location, "the field \"compression\": " + e.getMessage());
      }
      if (compression == Compression.NONE || !compression.label().equals(members.get("compression").text())) {
        throw invalid(location, "the field \"compression\" must be zstd, xz or gzip");
      }
      String transferUrl = string(members, "transferUrl", location);
      transfer = new Transfer(transferUrl, resolve(transferUrl, location, Reason.INTEGRITY),
          number(members, "transferSize", location), digest(members, "transferSha256", location), compression);
    }
    Index index = null;
    if (group(members, INDEX_MEMBERS, location)) {
      if (transfer == null) {
        throw invalid(location, "it has an index (\"indexUrl\") but no transfer file (\"transferUrl\")");
      }
      String indexUrl = string(members, "indexUrl", location);
      String chunksUrl = string(members, "chunksUrl", location);
      index = new Index(indexUrl, resolve(indexUrl, location, Reason.INTEGRITY), number(members, "indexSize", location),
          digest(members, "indexSha256", location), chunksUrl, resolve(chunksUrl, location, Reason.INTEGRITY));
    }
    return new Manifest(version, Long.parseLong(sizeValue.text()), Sha256.ofHex(sha), url, imageUri, location,
        created, createdAt, algorithm, keyId, signature, null, transfer, index);
  }

  /** Whether a group of optional members is there: all of them, or none. */
  private static boolean group(Map<String, Json.Value> members, List<String> names, @Nullable URI location) {
    long present = names.stream().filter(members::containsKey).count();
    if (present != 0 && present != names.size()) {
      throw invalid(location, "the fields " + String.join(", ", names) + " go together, but some are missing");
    }
    return present != 0;
  }

  private static long number(Map<String, Json.Value> members, String name, @Nullable URI location) {
    Json.Value v = members.get(name);
    if (v.kind() != Json.Kind.NUMBER || !PLAIN_INTEGER.matcher(v.text()).matches() || Long.parseLong(v.text()) > MAX_SIZE) {
      throw invalid(location, "the field \"" + name + "\" must be a whole number of bytes from 0 to " + MAX_SIZE
          + " in plain digits, not " + abbreviate(v.text()));
    }
    return Long.parseLong(v.text());
  }

  private static Sha256 digest(Map<String, Json.Value> members, String name, @Nullable URI location) {
    String hex = string(members, name, location);
    if (!HEX64.matcher(hex).matches()) {
      throw invalid(location, "the field \"" + name + "\" must be 64 lowercase hex digits");
    }
    return Sha256.ofHex(hex);
  }

  private static String string(Map<String, Json.Value> members, String name, @Nullable URI location) {
    Json.Value v = members.get(name);
    if (v.kind() != Json.Kind.STRING) {
      throw invalid(location, "the field \"" + name + "\" must be a string, not " + abbreviate(v.text()));
    }
    return v.text();
  }

  /** The absolute image URI, or null when {@code url} is relative and there is nothing to resolve it against. */
  private static @Nullable URI resolve(String url, @Nullable URI location, Reason reason) {
    URI ref;
    try {
      ref = Uris.parse(url);
    } catch (URISyntaxException e) {
      throw reason == Reason.INTEGRITY ? invalid(location, "the field \"url\" is not a valid URL (" + e.getReason() + ")")
          : OtaException.of(reason, "The image URL \"" + Redaction.url(url) + "\" is not valid (" + e.getReason()
              + "); give a full https:// URL or one relative to the manifest's.", e);
    }
    if (url.isEmpty()) {
      throw reason == Reason.INTEGRITY ? invalid(location, "the field \"url\" is empty")
          : OtaException.of(reason, "The image URL is empty; give the image's URL.");
    }
    if (ref.isAbsolute()) {
      return ref;
    }
    return location == null ? null : location.resolve(ref);
  }

  static OtaException invalid(@Nullable URI location, String detail) {
    return OtaException.of(OtaException.Detail.MALFORMED_MANIFEST, "The manifest" + (location == null ? "" : " from " + Redaction.uri(location))
        + " is not valid, so nothing was downloaded: " + detail + ". Ask its publisher for one made with `ota manifest create`.");
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 37) + "..." : s;
  }

  Manifest verifiedBy(VerificationKey key) {
    return new Manifest(version, size, sha256, url, imageUri, location, created, createdAt, algorithm, keyId,
        signature, key, transfer, index);
  }

  /**
   * The canonical bytes the signature covers (see the class description). Useful to check a
   * signature with other tools, for example
   * {@code openssl pkeyutl -verify -pubin -inkey key.pub.pem -rawin -in signed.bin -sigfile sig.bin}.
   *
   * @return a new array with the canonical UTF-8 bytes
   */
  public byte[] signedBytes() {
    return canonical(version.toString(), size, sha256.hex(), url, created, algorithm, keyId, transfer, index);
  }

  private static byte[] canonical(String version, long size, String sha256, String url, String created,
      SignatureAlgorithm algorithm, String keyId, @Nullable Transfer transfer, @Nullable Index index) {
    TreeMap<String, String> members = new TreeMap<>();
    if (transfer != null) {
      members.put("compression", Json.quote(transfer.compression().label()));
      members.put("transferUrl", Json.quote(transfer.url()));
      members.put("transferSize", Long.toString(transfer.size()));
      members.put("transferSha256", Json.quote(transfer.sha256().hex()));
    }
    if (index != null) {
      members.put("indexUrl", Json.quote(index.url()));
      members.put("indexSize", Long.toString(index.size()));
      members.put("indexSha256", Json.quote(index.sha256().hex()));
      members.put("chunksUrl", Json.quote(index.chunksUrl()));
    }
    members.put("algorithm", Json.quote(algorithm.label()));
    members.put("created", Json.quote(created));
    members.put("format", Json.quote(FORMAT));
    members.put("keyId", Json.quote(keyId));
    members.put("sha256", Json.quote(sha256));
    members.put("size", Long.toString(size));
    members.put("url", Json.quote(url));
    members.put("version", Json.quote(version));
    return Json.canonical(members);
  }

  /**
   * The manifest as JSON text, as {@code ota manifest create} prints it: one member per line,
   * ending with a newline. Parsing it gives this manifest back.
   *
   * @return the JSON text
   */
  public String json() {
    return "{\n"
        + "  \"format\": " + Json.quote(FORMAT) + ",\n"
        + "  \"version\": " + Json.quote(version.toString()) + ",\n"
        + "  \"size\": " + size + ",\n"
        + "  \"sha256\": " + Json.quote(sha256.hex()) + ",\n"
        + "  \"url\": " + Json.quote(url) + ",\n"
        + "  \"created\": " + Json.quote(created) + ",\n"
        + "  \"algorithm\": " + Json.quote(algorithm.label()) + ",\n"
        + "  \"keyId\": " + Json.quote(keyId) + ",\n"
        + (transfer == null ? "" : "  \"compression\": " + Json.quote(transfer.compression().label()) + ",\n"
            + "  \"transferUrl\": " + Json.quote(transfer.url()) + ",\n"
            + "  \"transferSize\": " + transfer.size() + ",\n"
            + "  \"transferSha256\": " + Json.quote(transfer.sha256().hex()) + ",\n")
        + (index == null ? "" : "  \"indexUrl\": " + Json.quote(index.url()) + ",\n"
            + "  \"indexSize\": " + index.size() + ",\n"
            + "  \"indexSha256\": " + Json.quote(index.sha256().hex()) + ",\n"
            + "  \"chunksUrl\": " + Json.quote(index.chunksUrl()) + ",\n")
        + "  \"signature\": " + Json.quote(Base64.getEncoder().encodeToString(signature)) + "\n"
        + "}\n";
  }

  /**
   * An update request for the image, bound to this manifest: its resolved URL, and its size,
   * SHA-256 and version, so the update pipeline refuses any other bytes and records the version
   * in the slot.
   *
   * @return the request
   * @throws OtaException reason {@code USAGE} when the image URL is relative and the manifest's
   *     own URL is unknown
   */
  public UpdateRequest request() {
    URI uri = imageUri().orElseThrow(() -> OtaException.of(Reason.USAGE, "The manifest's image URL \"" + url
        + "\" is relative and the manifest's own URL is unknown; verify it with its URL."));
    return UpdateRequest.of(uri).withSize(size).withSha256(sha256).withVersion(version.toString());
  }

  /**
   * Compares this manifest's version with what {@code status} says is installed: the rules are on
   * {@link VersionCheck}.
   *
   * @param status the slot store's status
   * @return the comparison
   */
  public VersionCheck check(StoreStatus status) {
    return VersionCheck.of(version, status);
  }

  /**
   * The image version.
   *
   * @return the version
   */
  public SemanticVersion version() {
    return version;
  }

  /**
   * The image size.
   *
   * @return the size in bytes
   */
  public long size() {
    return size;
  }

  /**
   * The image digest.
   *
   * @return the SHA-256
   */
  public Sha256 sha256() {
    return sha256;
  }

  /**
   * The image URL as the manifest writes it (perhaps relative).
   *
   * @return the {@code url} member
   */
  public String url() {
    return url;
  }

  /**
   * The absolute image URL: {@link #url()} resolved against {@link #location()}.
   *
   * @return the URL, or empty when it is relative and the manifest's own URL is unknown
   */
  public Optional<URI> imageUri() {
    return Optional.ofNullable(imageUri);
  }

  /**
   * Where the manifest was fetched from (after redirects), if known.
   *
   * @return the manifest's URL, or empty
   */
  public Optional<URI> location() {
    return Optional.ofNullable(location);
  }

  /**
   * When the manifest was signed.
   *
   * @return the instant
   */
  public Instant created() {
    return createdAt;
  }

  /**
   * The signature algorithm.
   *
   * @return the algorithm
   */
  public SignatureAlgorithm algorithm() {
    return algorithm;
  }

  /**
   * The id of the key that signed it (see {@link VerificationKey#keyId()}).
   *
   * @return 64 hex digits
   */
  public String keyId() {
    return keyId;
  }

  /**
   * The signature.
   *
   * @return a copy of the signature bytes
   */
  public byte[] signature() {
    return signature.clone();
  }

  /**
   * The trusted key whose signature was checked, or for a manifest just built, the signer's key.
   *
   * @return the key, or empty when the signature was not checked
   *     ({@link TrustedKeys#skipSignatureCheck()})
   */
  public Optional<VerificationKey> verifiedBy() {
    return Optional.ofNullable(verifiedBy);
  }

  /**
   * The compressed form of the image to download instead of {@link #url()}, if the publisher made
   * one ({@code --compress}).
   *
   * @return the transfer file, or empty
   */
  public Optional<Transfer> transfer() {
    return Optional.ofNullable(transfer);
  }

  /**
   * The chunk index that lets a device fetch only the chunks its running slot lacks, if the
   * publisher made one ({@code --delta}); it describes {@link #transfer()}.
   *
   * @return the index, or empty
   */
  public Optional<Index> index() {
    return Optional.ofNullable(index);
  }

  /**
   * The compressed image a device downloads: where, how large, its digest and compression.
   *
   * @param url the URL as the manifest writes it (perhaps relative)
   * @param uri the absolute URL, or null when relative and the manifest's own URL is unknown
   * @param size its size in bytes
   * @param sha256 its SHA-256
   * @param compression how it is compressed
   */
  public record Transfer(String url, @Nullable URI uri, long size, Sha256 sha256, Compression compression) {
    /**
     * Checks the parts.
     *
     * @param url the URL as written
     * @param uri the absolute URL or null
     * @param size the size
     * @param sha256 the digest
     * @param compression the compression
     */
    public Transfer {
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(sha256, "sha256");
      Objects.requireNonNull(compression, "compression");
    }
  }

  /**
   * The chunk index and the chunked compressed image it describes: where, and the index's size and
   * digest (which bind the chunked image's size and every chunk).
   *
   * @param url the index URL as the manifest writes it (perhaps relative)
   * @param uri the absolute index URL, or null when relative and the manifest's own URL is unknown
   * @param size the index size in bytes
   * @param sha256 the index's SHA-256
   * @param chunksUrl the chunked image's URL as written
   * @param chunksUri the absolute chunked image URL, or null as for {@code uri}
   */
  public record Index(String url, @Nullable URI uri, long size, Sha256 sha256, String chunksUrl,
      @Nullable URI chunksUri) {
    /**
     * Checks the parts.
     *
     * @param url the URL as written
     * @param uri the absolute URL or null
     * @param size the size
     * @param sha256 the digest
     * @param chunksUrl the chunked image's URL as written
     * @param chunksUri its absolute URL or null
     */
    public Index {
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(sha256, "sha256");
      Objects.requireNonNull(chunksUrl, "chunksUrl");
    }
  }

  @Override
  public String toString() {
    return "Manifest[" + version + ", size=" + size + ", sha256=" + sha256 + ", url=" + Redaction.url(url)
        + ", keyId=" + keyId + (verifiedBy == null ? ", signature not checked" : "") + "]";
  }

  /**
   * Collects a new manifest's fields; {@link #sign(SigningKey)} makes the manifest. Not thread-safe;
   * each setter returns this builder.
   */
  public static final class Builder {

    private @Nullable SemanticVersion version;
    private @Nullable String url;
    private long size = -1;
    private @Nullable Sha256 sha256;
    private @Nullable Instant created;
    private @Nullable Transfer transfer;
    private @Nullable Index index;
    /** Whether the file names came from {@link #files} and lie next to the image. */
    private boolean siblings;

    private Builder() {
    }

    /**
     * The compressed form of the image, and perhaps its chunk index, as
     * {@link io.otaflux.delta.PublishedImage} wrote them; their URLs are relative to the image URL
     * given with {@link #url(String)} (the files lie next to the image).
     *
     * @param files the published files
     * @return this builder
     */
    public Builder files(io.otaflux.delta.PublishedImage files) {
      Objects.requireNonNull(files, "files");
      this.size = files.imageSize();
      this.sha256 = files.imageSha256();
      this.transfer = files.compression() == Compression.NONE ? null
          : new Transfer(files.transferFile().getFileName().toString(), null, files.transferSize(),
              files.transferSha256(), files.compression());
      this.index = files.indexFile().map(path -> new Index(path.getFileName().toString(), null,
          files.indexSize(), files.indexSha256(), files.chunksFile().orElseThrow().getFileName().toString(), null))
          .orElse(null);
      this.siblings = true;
      return this;
    }

    /**
     * The compressed image devices download instead of the image (written elsewhere than by
     * {@link io.otaflux.delta.PublishedImage}, say).
     *
     * @param url its URL, absolute or relative to the manifest's
     * @param size its size in bytes
     * @param sha256 its SHA-256
     * @param compression how it is compressed (not {@code NONE})
     * @return this builder
     */
    public Builder transfer(String url, long size, Sha256 sha256, Compression compression) {
      if (compression == Compression.NONE || size < 0) {
        throw OtaException.of(Reason.USAGE, "A transfer file is compressed and has a size.");
      }
      this.transfer = new Transfer(Objects.requireNonNull(url, "url"), null, size, sha256, compression);
      return this;
    }

    /**
     * The chunk index and chunks file of a delta (see {@link io.otaflux.delta.ChunkIndex}).
     *
     * @param url the index URL, absolute or relative to the manifest's
     * @param size the index size in bytes
     * @param sha256 the index's SHA-256
     * @param chunksUrl the chunks file's URL, absolute or relative to the manifest's
     * @return this builder
     */
    public Builder index(String url, long size, Sha256 sha256, String chunksUrl) {
      this.index = new Index(Objects.requireNonNull(url, "url"), null, size, sha256, chunksUrl, null);
      return this;
    }

    /**
     * The image's version.
     *
     * @param version a semantic version, for example {@code 2.0.0}
     * @return this builder
     * @throws OtaException reason {@code USAGE} when it is not a semantic version
     */
    public Builder version(String version) {
      this.version = SemanticVersion.parse(Objects.requireNonNull(version, "version"));
      return this;
    }

    /**
     * Where devices download the image: absolute, or relative to the manifest's own URL (so a
     * manifest and its image can move together).
     *
     * @param url the image URL
     * @return this builder
     * @throws OtaException reason {@code USAGE} when it is not a valid URL
     */
    public Builder url(String url) {
      Objects.requireNonNull(url, "url");
      resolve(url, null, Reason.USAGE);
      try {
        Json.checkSurrogates(url);
      } catch (Json.SyntaxError e) {
        throw OtaException.of(Reason.USAGE, "The image URL holds a lone surrogate character.");
      }
      this.url = url;
      return this;
    }

    /**
     * The image's size and digest, taken from its bytes.
     *
     * @param image the image
     * @return this builder
     */
    public Builder image(byte[] image) {
      Objects.requireNonNull(image, "image");
      this.size = image.length;
      this.sha256 = Sha256.digest(image);
      return this;
    }

    /**
     * The image's size and digest, read from a file in one streamed pass (any size, little memory).
     *
     * @param image the image file
     * @return this builder
     * @throws OtaException reason {@code USAGE} when the file does not exist, {@code STORAGE} when
     *     it cannot be read
     */
    public Builder image(Path image) {
      Objects.requireNonNull(image, "image");
      MessageDigest digest;
      try {
        digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform has SHA-256", e);
      }
      long total = 0;
      byte[] buffer = new byte[64 * 1024];
      try (InputStream in = Files.newInputStream(image)) {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          digest.update(buffer, 0, n);
          total += n;
        }
      } catch (NoSuchFileException e) {
        throw OtaException.of(Reason.USAGE, "The image file " + image + " does not exist.", e);
      } catch (IOException e) {
        throw OtaException.of(Reason.STORAGE, "The image file " + image + " cannot be read: " + e.getMessage(), e);
      }
      this.size = total;
      this.sha256 = Sha256.of(digest.digest());
      return this;
    }

    /**
     * The image's size and digest, when they are known already.
     *
     * @param size the size in bytes
     * @param sha256 the digest
     * @return this builder
     * @throws OtaException reason {@code USAGE} when the size is negative or above 2<sup>53</sup>-1
     */
    public Builder image(long size, Sha256 sha256) {
      if (size < 0 || size > MAX_SIZE) {
        throw OtaException.of(Reason.USAGE, "An image size is from 0 to " + MAX_SIZE + " bytes, not " + size + ".");
      }
      this.size = size;
      this.sha256 = Objects.requireNonNull(sha256, "sha256");
      return this;
    }

    /**
     * When the manifest is signed. Default: now, to the second.
     *
     * @param created the instant
     * @return this builder
     */
    public Builder created(Instant created) {
      this.created = Objects.requireNonNull(created, "created");
      return this;
    }

    /**
     * Signs the manifest.
     *
     * @param key the publisher's private key
     * @return the signed manifest, {@link Manifest#verifiedBy() verified by} the key's public half
     * @throws OtaException reason {@code USAGE} when the version, URL or image is not set
     */
    public Manifest sign(SigningKey key) {
      Objects.requireNonNull(key, "key");
      SemanticVersion v = version;
      String u = url;
      Sha256 digest = sha256;
      if (v == null || u == null || digest == null) {
        throw OtaException.of(Reason.USAGE, "A manifest needs " + (v == null ? "a version" : u == null ? "an image URL"
            : "the image (its size and SHA-256)") + " before it is signed.");
      }
      Instant at = created != null ? created : Instant.now().truncatedTo(ChronoUnit.SECONDS);
      String createdText = DateTimeFormatter.ISO_INSTANT.format(at);
      VerificationKey pub = key.publicKey();
      Transfer t = transfer == null ? null : new Transfer(siblings ? sibling(u, transfer.url()) : transfer.url(), null,
          transfer.size(), transfer.sha256(), transfer.compression());
      Index i = index == null ? null : new Index(siblings ? sibling(u, index.url()) : index.url(), null, index.size(),
          index.sha256(), siblings ? sibling(u, index.chunksUrl()) : index.chunksUrl(), null);
      if (i != null && t == null) {
        throw OtaException.of(Reason.USAGE, "A manifest with an index needs a transfer file too.");
      }
      byte[] signature = key.sign(canonical(v.toString(), size, digest.hex(), u, createdText, pub.algorithm(),
          pub.keyId(), t, i));
      return new Manifest(v, size, digest, u, resolve(u, null, Reason.USAGE), null, createdText, at, pub.algorithm(),
          pub.keyId(), signature, pub, t, i);
    }
  }

  /** A file name next to the image: the image URL with its last segment replaced. */
  private static String sibling(String imageUrl, String fileName) {
    int query = imageUrl.indexOf('?');
    String path = query < 0 ? imageUrl : imageUrl.substring(0, query);
    int slash = path.lastIndexOf('/');
    return (slash < 0 ? "" : path.substring(0, slash + 1)) + fileName;
  }
}
