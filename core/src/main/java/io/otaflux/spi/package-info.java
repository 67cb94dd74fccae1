/**
 * The two service-provider interfaces an update runs on: where the image comes from
 * ({@link io.otaflux.spi.FirmwareSource}) and where it goes ({@link io.otaflux.spi.SlotStore}),
 * and the A/B boot rules every slot store applies ({@link io.otaflux.spi.BootRules}). In-memory
 * implementations for tests and demos, and the compatibility kit every implementation should
 * pass, are in {@code otaflux-testkit} ({@code io.otaflux.testkit}).
 */
@NullMarked
package io.otaflux.spi;

import org.jspecify.annotations.NullMarked;
