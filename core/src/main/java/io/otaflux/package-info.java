/**
 * OtaFlux: over-the-air firmware updates as a Reactor {@code Flux}.
 *
 * <p>Start at {@link io.otaflux.OtaUpdater}: give it a {@link io.otaflux.spi.FirmwareSource} and a
 * {@link io.otaflux.spi.SlotStore}, then subscribe to {@link io.otaflux.OtaUpdater#update(UpdateRequest)}.
 * Failures end the stream with an {@link io.otaflux.OtaException} whose
 * {@link io.otaflux.OtaException#reason() reason} says what kind of thing went wrong.
 */
@NullMarked
package io.otaflux;

import org.jspecify.annotations.NullMarked;
