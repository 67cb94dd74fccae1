package io.otaflux.manifest;

import java.util.Objects;

import io.otaflux.UpdateRequest;

/**
 * What {@link ManifestUpdater#resolve} makes of a signed manifest: the verified manifest, how its
 * version compares with the installed one (a downgrade only when the updater allows it), and the
 * request for its image, ready for {@link io.otaflux.OtaUpdater#update}, a
 * {@link io.otaflux.OtaUpdater#session session} or a download without activation.
 */
public final class ResolvedUpdate {

  private final Manifest manifest;
  private final VersionCheck check;
  private final UpdateRequest request;

  ResolvedUpdate(Manifest manifest, VersionCheck check, UpdateRequest request) {
    this.manifest = Objects.requireNonNull(manifest, "manifest");
    this.check = Objects.requireNonNull(check, "check");
    this.request = Objects.requireNonNull(request, "request");
  }

  /**
   * The verified manifest.
   *
   * @return the manifest (its transfer and index, when it offers compressed or delta files)
   */
  public Manifest manifest() {
    return manifest;
  }

  /**
   * The offered version compared with the installed one.
   *
   * @return the comparison: newer, the same (installed again), or older when downgrades are allowed
   */
  public VersionCheck check() {
    return check;
  }

  /**
   * The request for the image: its URL resolved against the manifest's, its size, SHA-256 and
   * version, and the manifest's credentials when the image has the same origin.
   *
   * @return the image request
   */
  public UpdateRequest request() {
    return request;
  }

  @Override
  public String toString() {
    return "ResolvedUpdate[" + check + ", " + request + "]";
  }
}
