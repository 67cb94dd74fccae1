/** The fleet demo: a Leshan server, a local HTTPS firmware server and N LwM2M agents in one JVM. */
@NullMarked
package io.otaflux.fleet;

import org.jspecify.annotations.NullMarked;
