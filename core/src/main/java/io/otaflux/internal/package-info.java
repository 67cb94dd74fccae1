/**
 * Helpers shared by OtaFlux's own modules. Not an API: anything here may change in any release.
 */
@NullMarked
package io.otaflux.internal;

import org.jspecify.annotations.NullMarked;
