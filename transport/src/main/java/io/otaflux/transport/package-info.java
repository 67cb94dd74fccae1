/**
 * HTTPS for OtaFlux: a {@link io.otaflux.spi.FirmwareSource} on Reactor Netty with pinned trust
 * ({@link io.otaflux.transport.TrustAnchors}, {@link io.otaflux.transport.SpkiPin}), https-only
 * redirects, {@code Range} resume, timeouts and credentials kept to their origin; the one-call
 * {@link io.otaflux.transport.HttpsUpdates}; and the {@link io.otaflux.transport.CertificateFetcher}
 * behind {@code ota get-cert}.
 */
@NullMarked
package io.otaflux.transport;

import org.jspecify.annotations.NullMarked;
