/**
 * The two service-provider interfaces an update runs on: where the image comes from
 * ({@link io.otaflux.spi.FirmwareSource}) and where it goes ({@link io.otaflux.spi.SlotStore}),
 * the A/B boot rules every slot store applies ({@link io.otaflux.spi.BootRules}), and in-memory
 * implementations for tests and demos. Every implementation should pass the
 * compatibility kit in the {@code otaflux-core} test-jar ({@code io.otaflux.kit}).
 */
@NullMarked
package io.otaflux.spi;

import org.jspecify.annotations.NullMarked;
