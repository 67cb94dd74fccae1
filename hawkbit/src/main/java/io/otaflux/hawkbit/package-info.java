/**
 * The fleet side of OtaFlux for Eclipse hawkBit: a Direct Device Integration (DDI) client that
 * polls the server, installs what it assigns through the update pipeline, and reports success only
 * once the new image was marked good.
 */
@NullMarked
package io.otaflux.hawkbit;

import org.jspecify.annotations.NullMarked;
