/**
 * The OtaFlux test kit ({@code otaflux-testkit}): what the tests of an application or of a new
 * {@link io.otaflux.spi.FirmwareSource} or {@link io.otaflux.spi.SlotStore} run on.
 *
 * <ul>
 *   <li>{@link io.otaflux.testkit.InMemoryFirmwareSource} and {@link io.otaflux.testkit.InMemorySlotStore}:
 *       the network and the disk in memory, with chunking, pauses, broken connections and ignored
 *       resumes, and the {@link io.otaflux.spi.BootRules} kept as every store keeps them;</li>
 *   <li>{@link io.otaflux.testkit.SlotStoreCompatibilityKit} and
 *       {@link io.otaflux.testkit.FirmwareSourceCompatibilityKit}: abstract JUnit classes every
 *       implementation extends (a few lines each), like r2dbc-spi-test's {@code TestKit} and
 *       Micrometer's {@code MeterRegistryCompatibilityKit};</li>
 *   <li>{@link io.otaflux.testkit.Fuzz}: random inputs for a parser of text a server or a user
 *       controls, which must end in a result or an {@link io.otaflux.OtaException}.</li>
 * </ul>
 *
 * <p>A test library: it depends on JUnit Jupiter's API and AssertJ at compile scope. Add it to a
 * build with {@code <scope>test</scope>}.
 */
@NullMarked
package io.otaflux.testkit;

import org.jspecify.annotations.NullMarked;
