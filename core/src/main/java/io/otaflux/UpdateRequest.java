package io.otaflux;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

import io.otaflux.internal.Redaction;
import io.otaflux.internal.Uris;

import org.jspecify.annotations.Nullable;

/**
 * What to install: the image's URL and what is known of it in advance. Immutable; every
 * {@code withX} returns a new request.
 *
 * <p>User-info in the URL ({@code https://user:pass@host/fw.bin}) is taken out of the URL and
 * kept as {@link Credentials}: {@link #uri()} and {@link #toString()} never show it.
 */
public final class UpdateRequest {

  private final URI uri;
  private final long size;
  private final @Nullable Sha256 sha256;
  private final @Nullable Credentials credentials;
  private final @Nullable String version;
  private final boolean activate;

  private UpdateRequest(URI uri, long size, @Nullable Sha256 sha256, @Nullable Credentials credentials,
      @Nullable String version, boolean activate) {
    this.uri = uri;
    this.size = size;
    this.sha256 = sha256;
    this.credentials = credentials;
    this.version = version;
    this.activate = activate;
  }

  /**
   * A request for the image at this URL.
   *
   * @param url an absolute URL; user-info in it becomes basic credentials
   * @return the request
   * @throws OtaException reason {@code USAGE} when the URL cannot be parsed or is not absolute
   */
  public static UpdateRequest of(String url) {
    Objects.requireNonNull(url, "url");
    try {
      return of(Uris.parse(url.strip()));
    } catch (URISyntaxException e) {
      throw OtaException.of(OtaException.Reason.USAGE,
          "The URL \"" + Redaction.url(url) + "\" is not valid (" + e.getReason() + "); give a full https:// URL.", e);
    }
  }

  /**
   * A request for the image at this URI.
   *
   * @param uri an absolute URI; user-info in it becomes basic credentials
   * @return the request
   * @throws OtaException reason {@code USAGE} when the URI is not absolute or has no host
   */
  public static UpdateRequest of(URI uri) {
    Objects.requireNonNull(uri, "uri");
    if (!uri.isAbsolute() || uri.getHost() == null && uri.getScheme() != null && uri.getScheme().startsWith("http")) {
      throw OtaException.of(OtaException.Reason.USAGE,
          "The URL \"" + Redaction.uri(uri) + "\" is not a full URL; give one like https://host/firmware.bin.");
    }
    Credentials credentials = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
      String password = colon < 0 ? "" : userInfo.substring(colon + 1);
      credentials = Credentials.basic(URLDecoder.decode(user, StandardCharsets.UTF_8),
          URLDecoder.decode(password, StandardCharsets.UTF_8));
    }
    return new UpdateRequest(Redaction.withoutUserInfo(uri), -1, null, credentials, null, true);
  }

  /**
   * This request with the image's expected size: a source or slot that disagrees fails the update.
   *
   * @param bytes the size in bytes
   * @return a new request
   */
  public UpdateRequest withSize(long bytes) {
    if (bytes < 0) {
      throw OtaException.of(OtaException.Reason.USAGE, "An image size cannot be negative (" + bytes + ").");
    }
    return new UpdateRequest(uri, bytes, sha256, credentials, version, activate);
  }

  /**
   * This request with the image's expected SHA-256: a mismatch fails before anything is activated.
   *
   * @param digest the digest
   * @return a new request
   */
  public UpdateRequest withSha256(Sha256 digest) {
    return new UpdateRequest(uri, size, Objects.requireNonNull(digest, "digest"), credentials, version, activate);
  }

  /**
   * This request with the image's expected SHA-256 in hex.
   *
   * @param hex 64 hex digits
   * @return a new request
   */
  public UpdateRequest withSha256(String hex) {
    return withSha256(Sha256.ofHex(hex));
  }

  /**
   * This request with credentials for the image's origin (replacing any from the URL).
   *
   * @param credentials basic or bearer credentials
   * @return a new request
   */
  public UpdateRequest withCredentials(Credentials credentials) {
    return new UpdateRequest(uri, size, sha256, Objects.requireNonNull(credentials, "credentials"), version, activate);
  }

  /**
   * This request with the image's version, recorded in the slot (usually from a manifest).
   *
   * @param version the version, for example {@code 2.0.0}
   * @return a new request
   */
  public UpdateRequest withVersion(String version) {
    return new UpdateRequest(uri, size, sha256, credentials, Objects.requireNonNull(version, "version"), activate);
  }

  /**
   * This request, activating the image as a trial after verification ({@code true}, the default)
   * or only leaving it verified in the inactive slot ({@code false}; activate it later with
   * {@link io.otaflux.spi.SlotStore#activate}).
   *
   * @param activate whether to activate after verification
   * @return a new request
   */
  public UpdateRequest withActivation(boolean activate) {
    return new UpdateRequest(uri, size, sha256, credentials, version, activate);
  }

  /**
   * The image URL, without user-info.
   *
   * @return the URL
   */
  public URI uri() {
    return uri;
  }

  /**
   * The expected size, if known.
   *
   * @return the size in bytes, or empty
   */
  public OptionalLong size() {
    return size < 0 ? OptionalLong.empty() : OptionalLong.of(size);
  }

  /**
   * The expected digest, if known.
   *
   * @return the digest, or empty
   */
  public Optional<Sha256> sha256() {
    return Optional.ofNullable(sha256);
  }

  /**
   * The credentials for the image's origin, if any.
   *
   * @return the credentials, or empty
   */
  public Optional<Credentials> credentials() {
    return Optional.ofNullable(credentials);
  }

  /**
   * The image's version, if known.
   *
   * @return the version, or empty
   */
  public Optional<String> version() {
    return Optional.ofNullable(version);
  }

  /**
   * Whether a verified image is activated as a trial.
   *
   * @return true unless {@link #withActivation(boolean) turned off}
   */
  public boolean isActivating() {
    return activate;
  }

  @Override
  public String toString() {
    return "UpdateRequest[" + uri
        + (size >= 0 ? ", size=" + size : "")
        + (sha256 != null ? ", sha256=" + sha256 : "")
        + (version != null ? ", version=" + version : "")
        + (credentials != null ? ", credentials=<redacted>" : "")
        + (activate ? "" : ", activate=false") + "]";
  }
}
