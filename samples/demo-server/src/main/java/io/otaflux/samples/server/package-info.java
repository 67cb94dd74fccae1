/**
 * The demo's embedded parts: a freshly generated certificate authority and a local HTTPS
 * firmware server, so {@code ota demo} and the HTTPS demo run offline on a fresh machine.
 */
@NullMarked
package io.otaflux.samples.server;

import org.jspecify.annotations.NullMarked;
