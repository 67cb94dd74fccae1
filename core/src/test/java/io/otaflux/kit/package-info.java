/**
 * Compatibility kits: abstract JUnit classes every {@link io.otaflux.spi.SlotStore} and
 * {@link io.otaflux.spi.FirmwareSource} implementation extends. Published in the
 * {@code otaflux-core} test-jar.
 */
@NullMarked
package io.otaflux.kit;

import org.jspecify.annotations.NullMarked;
