/**
 * The fleet side of OtaFlux: an OMA LwM2M agent (Firmware Update, Object 5, and Device, Object 3)
 * on Eclipse Leshan that a device-management server drives.
 */
@NullMarked
package io.otaflux.lwm2m;

import org.jspecify.annotations.NullMarked;
