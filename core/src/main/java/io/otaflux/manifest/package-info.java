/**
 * Signed manifests: is there a new image, is it really ours, and is it not older.
 *
 * <p>A publisher creates a key pair ({@link io.otaflux.manifest.SigningKey#generate()}) and, for
 * each image, a signed manifest ({@link io.otaflux.manifest.Manifest#builder()}). A device trusts
 * one or more public keys ({@link io.otaflux.manifest.TrustedKeys}), fetches and verifies the
 * manifest before any image byte is downloaded, compares its version with the installed one
 * ({@link io.otaflux.manifest.VersionCheck}), and installs the image bound to the manifest's size
 * and SHA-256 ({@link io.otaflux.manifest.ManifestUpdater}).
 *
 * <p>The format and its canonical signed form are described on {@link io.otaflux.manifest.Manifest}.
 */
@NullMarked
package io.otaflux.manifest;

import org.jspecify.annotations.NullMarked;
